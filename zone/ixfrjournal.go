package zone

import "gopkg.in/yaml.v3"

// IXFRJournal bounds the differences each zone keeps between its recent
// versions as transferred, from which IXFR is answered incrementally.
type IXFRJournal struct {
	// Versions is how many differences a zone keeps at most; 0 keeps
	// none, and every IXFR is answered with the whole zone.
	Versions int
	// MaxSize bounds the bytes of a zone's differences, in wire form.
	MaxSize int64
}

// DefaultIXFRJournal is ixfr_journal when not written.
var DefaultIXFRJournal = IXFRJournal{Versions: 100, MaxSize: 64 << 20}

// maxJournalVersions bounds ixfr_journal versions: a secondary further
// behind than that is better served the whole zone.
const maxJournalVersions = 100_000

// ixfrJournal reads ixfr_journal: a mapping of its keys over the
// defaults.
func (r *reader) ixfrJournal(n *yaml.Node) IXFRJournal {
	out := DefaultIXFRJournal
	r.fields(n, "ixfr_journal", map[string]func(*yaml.Node){
		"versions": func(v *yaml.Node) {
			if x, ok := r.uint32Value(v, "ixfr_journal versions", 0, maxJournalVersions); ok {
				out.Versions = int(x)
			}
		},
		"max_size": func(v *yaml.Node) {
			if x, ok := r.byteSize(v, "ixfr_journal max_size"); ok {
				out.MaxSize = x
			}
		},
	})
	return out
}
