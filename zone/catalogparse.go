package zone

import (
	"gopkg.in/yaml.v3"
)

// parsedCatalog is the top-level catalog: key, the catalog zone to
// publish (RFC 9432).
type parsedCatalog struct {
	origin string
	pos    at // where the zone's name is written, or the key when it is not
}

// catalogMember is what a zone says of its place in the catalog.
type catalogMember struct {
	excluded bool // catalog: false
	written  bool // catalog: written at all
	pos      at   // of catalog:
	group    string
	groupPos at
}

// maxGroupLen is the most a group may hold: one TXT character-string.
const maxGroupLen = 255

// catalog reads the top-level catalog: {zone: NAME}.
func (r *reader) catalog(n *yaml.Node) *parsedCatalog {
	c := &parsedCatalog{pos: r.pos(n)}
	if !r.isMapping(c.pos, n, "catalog", "{zone: catalog.invalid}") {
		return nil
	}
	written := false
	r.fields(n, "catalog", map[string]func(*yaml.Node){
		"zone": func(v *yaml.Node) {
			written = true
			s, ok := r.scalar(v, "catalog zone")
			if !ok {
				return
			}
			name, err := canonicalName(s)
			if err != nil || name == "." {
				r.errorf(v, "catalog zone %q: want a domain name such as catalog.invalid", s)
				return
			}
			// The longest name in the catalog is group.<id>.zones.NAME.
			if len(name)+len("group.")+catalogIDLen+len(".zones.") > 254 {
				r.errorf(v, "catalog zone %q: too long: the catalog's names, group.<id>.zones.NAME, would pass the 255 octets a name may have", s)
				return
			}
			c.origin, c.pos = name, r.pos(v)
		},
	})
	if c.origin == "" {
		if !written {
			r.errorf(n, "catalog: want zone: NAME, the name of the catalog zone, e.g. {zone: catalog.invalid}")
		}
		return nil
	}
	return c
}

// catalogMember reads a zone's catalog: true or false.
func (r *reader) catalogMember(n *yaml.Node, what string, m *catalogMember) {
	s, ok := r.choice(n, what+" catalog", "true", "false")
	if !ok {
		return
	}
	m.excluded, m.written, m.pos = s == "false", true, r.pos(n)
}

// catalogGroup reads a zone's group: the catalog's group property, which
// secondaries map to a configuration template.
func (r *reader) catalogGroup(n *yaml.Node, what string, m *catalogMember) {
	s, ok := r.scalar(n, what+" group")
	if !ok {
		return
	}
	if !validGroup(s) {
		r.errorf(n, "%s group %q: want 1 to %d printable ASCII characters, without quotes or backslashes, e.g. signed", what, s, maxGroupLen)
		return
	}
	m.group, m.groupPos = s, r.pos(n)
}

// validGroup accepts what every consumer can match against its template
// names as written: printable ASCII, no character a master file would
// need to escape.
func validGroup(s string) bool {
	if len(s) == 0 || len(s) > maxGroupLen {
		return false
	}
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
