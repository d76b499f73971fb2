package zone

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// dmarcReportsFor reads a zone's dmarc_reports_for: the domains whose
// DMARC reports this zone's apex takes (their rua or ruf names an address
// here). For each, RFC 7489 §7.1 wants TXT "v=DMARC1" at
// <domain>._report._dmarc.<zone>, or receivers send the reports nowhere;
// "*" authorises every domain. The records are made by a holder at the
// apex, merged with the zone's names like a helper's.
func (r *reader) dmarcReportsFor(v *yaml.Node, origin, what string) *parsedOwner {
	holder := &parsedOwner{name: origin}
	seen := make(map[string]at)
	for _, item := range r.list(v, what+" dmarc_reports_for") {
		name := "*"
		if item.Value != "*" {
			d, err := canonicalName(item.Value)
			if err != nil || d == "." || strings.HasPrefix(d, "*.") {
				r.errorf(item, "%s dmarc_reports_for %q: want a domain whose reports come here, e.g. example.org, or \"*\" for every domain", what, item.Value)
				continue
			}
			name = strings.TrimSuffix(d, ".")
		}
		if p, dup := seen[name]; dup {
			r.errorf(item, "%s dmarc_reports_for: %s is written twice (first at %s)", what, item.Value, p)
			continue
		}
		seen[name] = r.pos(item)
		holder.generate(name+"._report._dmarc", "v=DMARC1", r.pos(item), "dmarc_reports_for")
	}
	return holder
}
