package zone

import (
	"encoding/base64"
	"errors"
	"net"
	"net/netip"
	"sort"
	"strings"

	"github.com/miekg/dns"
	"gopkg.in/yaml.v3"
)

// TSIGKey is a shared secret for TSIG (RFC 8945).
type TSIGKey struct {
	Name      string // canonical, fully qualified: what goes on the wire
	Algorithm string // miekg/dns form, e.g. dns.HmacSHA256 ("hmac-sha256.")
	Secret    string // base64, as written
}

// Transfer says who may transfer a zone and whom to NOTIFY of changes.
// The zero value denies every transfer and notifies nobody.
type Transfer struct {
	// Allow holds the address prefixes allowed to transfer without TSIG.
	Allow []netip.Prefix
	// AllowKeys holds the canonical names of the TSIG keys that allow a
	// transfer from anywhere.
	AllowKeys []string
	// Notify holds ip:port targets of NOTIFY on each serial change.
	Notify []string
}

// NotifyKey is the key NOTIFY messages are signed with: the first key of
// the allow list, since a secondary that transfers with a key expects its
// primary's NOTIFY to carry the same key. "" means unsigned.
func (t Transfer) NotifyKey() string {
	if len(t.AllowKeys) > 0 {
		return t.AllowKeys[0]
	}
	return ""
}

// Transfer returns the transfer settings of the zone with the given origin:
// its own, or the top-level ones. ok is false when no such zone is served.
func (s *Snapshot) Transfer(origin string) (t Transfer, ok bool) {
	name, err := canonicalName(origin)
	if err != nil {
		return Transfer{}, false
	}
	z, ok := s.zones[name]
	if !ok {
		return Transfer{}, false
	}
	if z.transfer != nil {
		return *z.transfer, true
	}
	return s.settings.Transfer, true
}

// parsedTransfer keeps where each key was named, to check against
// tsig_keys once every file is read.
type parsedTransfer struct {
	Transfer
	keyRefs []nameRef
}

// tsigAlgorithms maps the algorithm names written in configs (as BIND,
// Knot and NSD spell them) to miekg/dns's.
var tsigAlgorithms = map[string]string{
	"hmac-sha1":   dns.HmacSHA1,
	"hmac-sha224": dns.HmacSHA224,
	"hmac-sha256": dns.HmacSHA256,
	"hmac-sha384": dns.HmacSHA384,
	"hmac-sha512": dns.HmacSHA512,
}

func (r *reader) tsigKeys(n *yaml.Node) map[string]TSIGKey {
	keys := make(map[string]TSIGKey)
	for _, p := range r.pairs(n, "tsig_keys") {
		name, err := canonicalName(p.key)
		if err != nil || name == "." {
			r.errorf(p.k, "tsig key name %q: want a domain name such as xfr-key", p.key)
			continue
		}
		what := "tsig key " + p.key
		k := TSIGKey{Name: name}
		var written, secrets int
		// secret reads the one of secret and secret_file that is written.
		secret := func(v *yaml.Node, field string) (string, bool) {
			written++
			secrets++
			if secrets > 1 {
				r.errorf(v, "%s: want secret or secret_file, not both", what)
				return "", false
			}
			return r.scalar(v, what+" "+field)
		}
		r.fields(p.v, what, map[string]func(*yaml.Node){
			"algorithm": func(v *yaml.Node) {
				written++
				s, ok := r.scalar(v, what+" algorithm")
				if !ok {
					return
				}
				alg, known := tsigAlgorithms[strings.ToLower(strings.TrimSuffix(s, "."))]
				if !known {
					r.errorf(v, "%s algorithm %q: want one of %s", what, s, keyList(tsigAlgorithms))
					return
				}
				k.Algorithm = alg
			},
			"secret": func(v *yaml.Node) {
				s, ok := secret(v, "secret")
				if !ok {
					return
				}
				raw, err := base64.StdEncoding.DecodeString(s)
				if err != nil || len(raw) == 0 {
					r.errorf(v, "%s secret: %v", what, errBadSecret)
					return
				}
				k.Secret = s
			},
			"secret_file": func(v *yaml.Node) {
				name, ok := secret(v, "secret_file")
				if !ok {
					return
				}
				s, path, err := readSecretFile(name, r.file)
				if errors.Is(err, errBadSecret) {
					r.errorf(v, "%s secret_file %s: %v", what, path, err)
					return
				} else if err != nil {
					r.errorf(v, "%s secret_file: %v", what, err)
					return
				}
				k.Secret = s
			},
		})
		if secrets > 1 {
			continue
		}
		if k.Algorithm == "" || k.Secret == "" {
			if written < 2 && deref(p.v).Kind == yaml.MappingNode {
				r.errorf(p.k, "%s: want both algorithm and secret (or secret_file)", what)
			}
			continue
		}
		keys[name] = k
	}
	return keys
}

func (r *reader) transfer(n *yaml.Node, what string) *parsedTransfer {
	t := &parsedTransfer{}
	what += " transfer"
	r.fields(n, what, map[string]func(*yaml.Node){
		"allow": func(v *yaml.Node) {
			for _, item := range r.list(v, what+" allow") {
				s := strings.TrimSpace(item.Value)
				if key, isKey := strings.CutPrefix(s, "key:"); isKey {
					name, err := canonicalName(strings.TrimSpace(key))
					if err != nil || name == "." {
						r.errorf(item, "%s allow %q: want key:NAME with NAME from tsig_keys", what, s)
						continue
					}
					t.keyRefs = append(t.keyRefs, nameRef{name, r.pos(item)})
					continue
				}
				if p, ok := parsePrefix(s); ok {
					t.Allow = append(t.Allow, p)
					continue
				}
				r.errorf(item, "%s allow %q: want an address, a prefix such as 192.0.2.0/24, or key:NAME", what, s)
			}
		},
		"notify": func(v *yaml.Node) {
			for _, item := range r.list(v, what+" notify") {
				if target, ok := notifyTarget(item.Value); ok {
					t.Notify = append(t.Notify, target)
				} else {
					r.errorf(item, "%s notify %q: want ip or ip:port, e.g. 192.0.2.2:53", what, item.Value)
				}
			}
		},
	})
	return t
}

// parsePrefix reads an address or a prefix. An IPv4-mapped IPv6 form
// (::ffff:192.0.2.0/120) is turned into its IPv4 form, because client
// addresses are compared unmapped: the mapped form would never match.
func parsePrefix(s string) (netip.Prefix, bool) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), true
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	p = p.Masked()
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p, true
}

// notifyTarget accepts ip or ip:port (port 53 by default), never a host
// name: NOTIFY must not depend on a resolver.
func notifyTarget(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return net.JoinHostPort(a.String(), "53"), true
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() == 0 {
		return "", false
	}
	return ap.String(), true
}

// resolveTransfer checks the key names of t against keys.
func resolveTransfer(t *parsedTransfer, keys map[string]TSIGKey, diags *Diagnostics) *Transfer {
	if t == nil {
		return nil
	}
	out := t.Transfer
	out.AllowKeys = nil
	for _, ref := range t.keyRefs {
		if _, ok := keys[ref.name]; !ok {
			names := make([]string, 0, len(keys))
			for k := range keys {
				names = append(names, strings.TrimSuffix(k, "."))
			}
			sort.Strings(names)
			known := "none are defined"
			if len(names) > 0 {
				known = "known: " + strings.Join(names, ", ")
			}
			diags.add(ref.pos, Error, "transfer allow key:%s: no such key in tsig_keys (%s)", strings.TrimSuffix(ref.name, "."), known)
			continue
		}
		out.AllowKeys = append(out.AllowKeys, ref.name)
	}
	return &out
}
