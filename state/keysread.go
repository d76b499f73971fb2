package state

import (
	"time"

	"github.com/mxdns/mxdns/dnssec"
	"github.com/mxdns/mxdns/zone"
)

// KeysAsKept reads the keys a server keeps in the state directory dir and
// changes nothing: no key is made and no rollover moved on. mxdns check
// builds with it, so that what depends on a signed zone's keys (the DS a
// parent served here publishes for it) is checked against the keys the
// zone is served with. A zone whose keys cannot be read (none yet, or a
// file only the server's user may read) is built without them.
func KeysAsKept(dir string) zone.KeySource { return keptKeys(dir) }

type keptKeys string

func (dir keptKeys) Keys(origin string, _ dnssec.Policy, _ dnssec.Timing) (*dnssec.ZoneKeys, error) {
	all, _, err := readKeys(origin, keyFile(string(dir), origin, ".json"))
	if err != nil || len(all) == 0 {
		return nil, nil
	}
	return dnssec.NewZoneKeys(origin, all, time.Time{}), nil
}

// HasKeys is false: a zone whose dnssec: was removed is checked as
// unsigned, as the server will serve it once its parent drops the DS.
func (keptKeys) HasKeys(string) bool { return false }

func (keptKeys) Unsign(string, dnssec.Timing) (*dnssec.ZoneKeys, error) { return nil, nil }
