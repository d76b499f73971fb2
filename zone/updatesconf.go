package zone

import (
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"
)

// Updates is the top-level updates: which RFC 2136 dynamic updates are
// accepted. Each rule lets one TSIG key add and delete records of its
// types at its names; nothing else is ever updated.
type Updates struct {
	Allow []UpdateRule
	// TTL is the TTL of every record added (default 60).
	TTL uint32
	// Expire is how long an added record is served when no update
	// deletes it (default 24h).
	Expire time.Duration
}

// UpdateRule is one entry of updates.allow.
type UpdateRule struct {
	Key   string   // canonical name of a key of tsig_keys
	Names []string // canonical patterns: a label "*" stands for exactly one label
	Types []uint16
	pos   at // where the rule is written, for the build's findings
	names []at
}

// Defaults of updates.
const (
	DefaultUpdateTTL    = 60
	DefaultUpdateExpire = 24 * time.Hour
)

// updatableTypes are the types a rule may allow: data at a name that no
// other part of the model reads (no address, no target, no delegation),
// so that an added record changes only the answers for its own set.
var updatableTypes = map[string]uint16{
	"TXT":   dns.TypeTXT,
	"TLSA":  dns.TypeTLSA,
	"CAA":   dns.TypeCAA,
	"SSHFP": dns.TypeSSHFP,
}

func isUpdatableType(t uint16) bool {
	for _, u := range updatableTypes {
		if u == t {
			return true
		}
	}
	return false
}

// Permits reports whether key may update records of type t at name
// (canonical).
func (u *Updates) Permits(key, name string, t uint16) bool {
	if u == nil {
		return false
	}
	for _, r := range u.Allow {
		if r.Key == key && slices.Contains(r.Types, t) && r.Matches(name) {
			return true
		}
	}
	return false
}

// Types lists the types key may update at name, in no particular order.
func (u *Updates) Types(key, name string) []uint16 {
	var out []uint16
	if u == nil {
		return nil
	}
	for _, r := range u.Allow {
		if r.Key == key && r.Matches(name) {
			for _, t := range r.Types {
				if !slices.Contains(out, t) {
					out = append(out, t)
				}
			}
		}
	}
	return out
}

// HasKey reports whether some rule names key.
func (u *Updates) HasKey(key string) bool {
	return u != nil && slices.ContainsFunc(u.Allow, func(r UpdateRule) bool { return r.Key == key })
}

// Matches reports whether name (canonical) is one of the rule's names.
func (r UpdateRule) Matches(name string) bool {
	return slices.ContainsFunc(r.Names, func(p string) bool { return MatchName(p, name) })
}

// MatchName reports whether name (canonical, absolute) matches pattern:
// the same number of labels, each equal, but that a label "*" of the
// pattern matches any one label of name except a literal "*" (a name
// that is itself a wildcard owner is never updated). So
// "_acme-challenge.*.example.com." matches
// "_acme-challenge.mx1.example.com." and not
// "_acme-challenge.example.com." nor "_acme-challenge.a.b.example.com.".
func MatchName(pattern, name string) bool {
	if pattern == name {
		return !strings.HasPrefix(name, "*.") && !strings.Contains(name, ".*.")
	}
	p, n := dns.SplitDomainName(pattern), dns.SplitDomainName(name)
	if len(p) != len(n) {
		return false
	}
	for i := range p {
		switch {
		case n[i] == "*":
			return false
		case p[i] == "*":
		case p[i] != n[i]:
			return false
		}
	}
	return true
}

// updatesConf is updates: as parsed: the rules' keys are checked against
// tsig_keys once the whole configuration is read.
type updatesConf struct {
	Updates
	keyRefs []nameRef // parallel to Allow
}

// updates reads the top-level updates: {allow: [...], ttl, expire}.
func (r *reader) updates(n *yaml.Node) *updatesConf {
	u := &updatesConf{Updates: Updates{TTL: DefaultUpdateTTL, Expire: DefaultUpdateExpire}}
	if !r.isMapping(r.pos(n), n, "updates", "{allow: [{key: acme, names: [_acme-challenge.example.com.], types: [TXT]}]}") {
		return nil
	}
	allowed := false
	r.fields(n, "updates", map[string]func(*yaml.Node){
		"allow": func(v *yaml.Node) {
			allowed = true
			if r.probe != nil {
				r.updateRule(v, u) // the probe's value stands for one rule
				return
			}
			v = deref(v)
			if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
				r.errorf(v, "updates allow: want a list of rules, each {key: NAME, names: [...], types: [TXT]}, got %s", kindName(v))
				return
			}
			for _, item := range v.Content {
				r.updateRule(item, u)
			}
		},
		"ttl": func(v *yaml.Node) {
			if t, ok := r.uint32Value(v, "updates ttl", 0, maxTTL); ok {
				u.TTL = t
			}
		},
		"expire": func(v *yaml.Node) {
			if d, ok := r.duration(v, "updates expire"); ok {
				u.Expire = d
			}
		},
	})
	if !allowed && r.probe == nil {
		r.errorf(n, "updates: want allow: a list of rules, each {key: NAME, names: [...], types: [TXT]}")
	}
	return u
}

// updateRule reads one rule of updates.allow; a rule with an error is
// left out, and the load fails.
func (r *reader) updateRule(n *yaml.Node, u *updatesConf) {
	rule := UpdateRule{pos: r.pos(n)}
	what := "updates allow"
	if !r.isMapping(rule.pos, n, what, "{key: acme, names: [_acme-challenge.example.com.], types: [TXT]}") {
		return
	}
	var key nameRef
	ok := true
	r.fields(n, what, map[string]func(*yaml.Node){
		"key": func(v *yaml.Node) {
			s, good := r.scalar(v, what+" key")
			if !good {
				ok = false
				return
			}
			name, err := canonicalName(s)
			if err != nil || name == "." {
				r.errorf(v, "%s key %q: want the name of a key of tsig_keys", what, s)
				ok = false
				return
			}
			key = nameRef{name, r.pos(v)}
		},
		"names": func(v *yaml.Node) {
			for _, item := range r.list(v, what+" names") {
				p, good := r.namePattern(item)
				if !good {
					ok = false
					continue
				}
				rule.Names, rule.names = append(rule.Names, p), append(rule.names, r.pos(item))
			}
		},
		"types": func(v *yaml.Node) {
			for _, item := range r.list(v, what+" types") {
				t, known := updatableTypes[strings.ToUpper(item.Value)]
				if !known {
					r.errorf(item, "%s types %q: want one of %s; updates never change addresses, targets, delegations or DNSSEC records", what, item.Value, keyList(updatableTypes))
					ok = false
					continue
				}
				if !slices.Contains(rule.Types, t) {
					rule.Types = append(rule.Types, t)
				}
			}
		},
	})
	if r.probe != nil || !ok {
		return
	}
	if key.name == "" || len(rule.Names) == 0 || len(rule.Types) == 0 {
		r.errorf(n, "%s: a rule wants key, names and types, e.g. {key: acme, names: [_acme-challenge.example.com.], types: [TXT]}", what)
		return
	}
	rule.Key = key.name
	u.Allow = append(u.Allow, rule)
	u.keyRefs = append(u.keyRefs, key)
}

// namePattern reads one of a rule's names: absolute, and with at most
// one label "*", which stands for exactly one label.
func (r *reader) namePattern(n *yaml.Node) (string, bool) {
	s := strings.TrimSpace(n.Value)
	example := "e.g. _acme-challenge.example.com. or _acme-challenge.*.example.com."
	if !strings.HasSuffix(s, ".") {
		r.errorf(n, "updates allow names %q: want an absolute name, ending in a dot, %s", s, example)
		return "", false
	}
	name, err := canonicalName(s)
	if err != nil || name == "." {
		r.errorf(n, "updates allow names %q: want a domain name, %s", s, example)
		return "", false
	}
	labels := dns.SplitDomainName(name)
	stars := 0
	for _, l := range labels {
		switch {
		case l == "*":
			stars++
		case strings.Contains(l, "*"):
			r.errorf(n, "updates allow names %q: \"*\" stands for one whole label, not part of one, %s", s, example)
			return "", false
		}
	}
	if stars > 1 || stars == 1 && len(labels) < 3 {
		r.errorf(n, "updates allow names %q: want at most one \"*\" label, below at least two fixed ones, %s", s, example)
		return "", false
	}
	return name, true
}

// resolveUpdates checks the rules' keys against tsig_keys; a rule naming
// no key is an error, and left out.
func resolveUpdates(u *updatesConf, keys map[string]TSIGKey, diags *Diagnostics) *Updates {
	if u == nil {
		return nil
	}
	out := u.Updates
	out.Allow = nil
	for i, rule := range u.Allow {
		ref := u.keyRefs[i]
		if _, ok := keys[ref.name]; !ok {
			known := "none are defined"
			if len(keys) > 0 {
				names := make([]string, 0, len(keys))
				for k := range keys {
					names = append(names, strings.TrimSuffix(k, "."))
				}
				slices.Sort(names)
				known = "known: " + strings.Join(names, ", ")
			}
			diags.add(ref.pos, Error, "updates allow key %s: no such key in tsig_keys (%s)", strings.TrimSuffix(ref.name, "."), known)
			continue
		}
		out.Allow = append(out.Allow, rule)
	}
	return &out
}

// checkUpdateNames warns of a rule's name that no zone served holds:
// updates to it would all be refused.
func (s *Snapshot) checkUpdateNames(u *Updates, diags *Diagnostics) {
	if u == nil {
		return
	}
	for _, rule := range u.Allow {
		for i, p := range rule.Names {
			fixed := p
			if j := strings.LastIndex(p, "*."); j >= 0 {
				fixed = p[j+2:]
			}
			if z := s.findZone(fixed); z == nil || z == s.catalogZone() {
				diags.add(rule.names[i], Warning, "updates allow names %s: no zone served holds it, so every update to it is refused", p)
			}
		}
	}
}

// catalogZone is the catalog zone s publishes, nil for none: it lists
// the zones served and is never updated.
func (s *Snapshot) catalogZone() *zoneData {
	if s.catalog == nil {
		return nil
	}
	return s.zones[s.catalog.origin]
}
