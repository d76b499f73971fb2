package zone

// This file fixes the package's public surface while the model is written;
// the bodies move to their own files.

import "github.com/miekg/dns"

// Snapshot is an immutable, fully validated view of every zone and setting.
// It is safe for concurrent use; nothing in it changes after Load returns.
type Snapshot struct {
	settings Settings
	files    []string
	dirs     []string
}

// ZoneInfo is what the admin endpoint and logs show of a zone.
type ZoneInfo struct {
	Origin string // canonical, lower case, fully qualified
	Serial uint32
}

// Load reads the configuration at path and every zone file it names, and
// builds a snapshot. prev, when not nil, is the snapshot being served: it
// keeps "serial: auto" moving only upward. The snapshot is nil when the
// diagnostics hold any error.
func Load(path string, prev *Snapshot) (*Snapshot, Diagnostics) { panic("todo") }

// FromYAML builds a snapshot from configuration text as if read from file;
// zone_files globs resolve relative to file's directory.
func FromYAML(file string, text []byte, prev *Snapshot) (*Snapshot, Diagnostics) { panic("todo") }

// Settings returns the server-wide settings.
func (s *Snapshot) Settings() Settings { return s.settings }

// Files lists every file read to build the snapshot (the config first).
func (s *Snapshot) Files() []string { return s.files }

// WatchDirs lists the directories whose changes may change the snapshot:
// the config's directory and the directory of every zone_files glob.
func (s *Snapshot) WatchDirs() []string { return s.dirs }

// Zones lists the zones served, sorted by origin.
func (s *Snapshot) Zones() []ZoneInfo { panic("todo") }

// ListenLink returns the index of the link whose listen list holds addr
// (as written in the config), or -1 when the address belongs to no link.
func (s *Snapshot) ListenLink(addr string) int { panic("todo") }

// Client is what the server knows about a query besides its question.
type Client struct {
	Link   int     // index of the link the query arrived over, -1 for none
	Up     LinkSet // links that are up now
	Rotate uint32  // varies from answer to answer; picks the rotation of RRsets
}

// Result is an answer before it is put into a message.
type Result struct {
	Rcode         int
	Authoritative bool
	Answer        []dns.RR
	Ns            []dns.RR
	Extra         []dns.RR
}

// Lookup answers q (its name as the client wrote it) from the snapshot.
// Names in no zone served give REFUSED without AA.
func (s *Snapshot) Lookup(q dns.Question, c Client) Result { panic("todo") }
