package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
)

const keysDir = "keys"

// zoneKeys is what Dir remembers of one zone's keys: every key of its
// file, and the set in use for the policy last asked, handed out as the
// same pointer while it stands so that callers can tell it unchanged.
type zoneKeys struct {
	all    []*dnssec.Key
	alg    uint8
	split  bool
	inUse  *dnssec.ZoneKeys
	loaded bool
}

// ZoneKeys returns the keys of the zone origin under policy p, making and
// saving them on first use: keys/ZONE.json, mode 0600, written atomically
// before they are returned, so that a key is never used that a restart
// would not find again. Keys of another algorithm or role than p asks are
// kept in the file, out of use. A key file that cannot be read is an
// error, and is never written over.
func (d *Dir) ZoneKeys(origin string, p dnssec.Policy, now time.Time) (*dnssec.ZoneKeys, error) {
	origin = dns.CanonicalName(origin)
	d.keyMu.Lock()
	defer d.keyMu.Unlock()
	if d.keys == nil {
		d.keys = make(map[string]*zoneKeys)
	}
	zk := d.keys[origin]
	if zk == nil {
		zk = &zoneKeys{}
		d.keys[origin] = zk
	}
	if zk.inUse != nil && zk.alg == p.Algorithm && zk.split == p.Split {
		return zk.inUse, nil
	}
	path := d.keyFile(origin)
	if !zk.loaded {
		b, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("keys of %s: %w", origin, err)
		default:
			if zk.all, err = dnssec.UnmarshalKeys(origin, b); err != nil {
				return nil, fmt.Errorf("keys of %s: %s: %w", origin, path, err)
			}
		}
		zk.loaded = true
	}
	roles := []dnssec.Role{dnssec.CSK}
	if p.Split {
		roles = []dnssec.Role{dnssec.KSK, dnssec.ZSK}
	}
	var use []*dnssec.Key
	all, changed := zk.all, false
	for _, role := range roles {
		k := findKey(all, p.Algorithm, role)
		if k == nil {
			var err error
			if k, err = dnssec.GenerateKey(origin, p.Algorithm, role, now); err != nil {
				return nil, fmt.Errorf("keys of %s: %w", origin, err)
			}
			all, changed = append(all, k), true
		}
		use = append(use, k)
	}
	for _, k := range all {
		if inUse := containsKey(use, k); k.InUse != inUse {
			k.InUse, changed = inUse, true
		}
	}
	if changed {
		text, err := dnssec.MarshalKeys(all)
		if err != nil {
			return nil, fmt.Errorf("keys of %s: %w", origin, err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("keys of %s: %w", origin, err)
		}
		if err := writeAll([]pending{{path: path, text: text}}); err != nil {
			return nil, fmt.Errorf("keys of %s: %w", origin, err)
		}
	}
	zk.all, zk.alg, zk.split = all, p.Algorithm, p.Split
	zk.inUse = &dnssec.ZoneKeys{Origin: origin, Keys: use}
	return zk.inUse, nil
}

// findKey is the newest key of alg and role; a key out of use may come
// back into it (a policy changed back).
func findKey(keys []*dnssec.Key, alg uint8, role dnssec.Role) *dnssec.Key {
	var found *dnssec.Key
	for _, k := range keys {
		if k.DNSKEY.Algorithm == alg && k.Role == role && (found == nil || k.Created.After(found.Created)) {
			found = k
		}
	}
	return found
}

func containsKey(keys []*dnssec.Key, k *dnssec.Key) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// keyFile is where the keys of origin are kept: its name without the
// final dot ("root" for the root zone), any octet but a lower-case
// letter, digit, '-' or '_' between its labels written as %XX.
func (d *Dir) keyFile(origin string) string {
	name := strings.TrimSuffix(origin, ".")
	if name == "" {
		name = "root"
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.' && i > 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return filepath.Join(d.path, keysDir, b.String()+".json")
}
