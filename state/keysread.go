package state

import (
	"sync"
	"time"

	"github.com/mxdns/mxdns/dnssec"
	"github.com/mxdns/mxdns/zone"
)

// KeptKeys reads the keys a server keeps in a state directory and changes
// nothing: no key is made and no rollover moved on. mxdns check builds
// with it, so that what depends on a signed zone's keys (the DS a parent
// served here publishes for it) is checked against the keys the zone is
// served with. A zone whose keys cannot be read (none yet, a file only
// the server's user may read, a damaged one) is built without them, and
// Unreadable says which, so that check can say what it left unchecked.
type KeptKeys struct {
	dir string

	mu         sync.Mutex
	unreadable []string // zones whose key file is there but could not be read
	first      error
}

// KeysAsKept returns the keys kept in dir, read as the build asks.
func KeysAsKept(dir string) *KeptKeys { return &KeptKeys{dir: dir} }

func (k *KeptKeys) Keys(origin string, _ dnssec.Policy, _ dnssec.Timing) (*dnssec.ZoneKeys, error) {
	all, _, err := readKeys(origin, keyFile(k.dir, origin, ".json"))
	if err != nil {
		k.mu.Lock()
		if k.first == nil {
			k.first = err
		}
		k.unreadable = append(k.unreadable, origin)
		k.mu.Unlock()
		return nil, nil
	}
	if len(all) == 0 {
		return nil, nil
	}
	return dnssec.NewZoneKeys(origin, all, time.Time{}), nil
}

// Unreadable returns the zones whose key files could not be read, and
// the first error met.
func (k *KeptKeys) Unreadable() ([]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.unreadable...), k.first
}

// HasKeys is false: a zone whose dnssec: was removed is checked as
// unsigned, as the server will serve it once its parent drops the DS.
func (*KeptKeys) HasKeys(string) bool { return false }

func (*KeptKeys) Unsign(string, dnssec.Timing) (*dnssec.ZoneKeys, error) { return nil, nil }

var _ zone.KeySource = (*KeptKeys)(nil)
