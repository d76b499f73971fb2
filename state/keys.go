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
// file, and the view last handed out, handed out again while nothing
// changes so that callers can tell it unchanged by its pointer.
type zoneKeys struct {
	all       []*dnssec.Key
	unsigning dnssec.Unsigning
	loaded    bool
	view      *dnssec.ZoneKeys
	policy    dnssec.Policy
}

// ZoneKeys returns the keys of the zone origin under policy p at now,
// moved through their rollovers as far as now allows (dnssec.Advance)
// and making the first ones on first use. Every change is queued to be
// saved (keys/ZONE.json, mode 0600) by the next FlushKeys, which the
// caller runs before it serves or prints any key: so no key is ever
// published or used that a restart would not find again, and a first
// start of ten thousand signed zones syncs the disk once, not ten
// thousand times. A
// DS the parent was seen to publish (MarkDSSeen) is taken in here. A key
// file that cannot be read is an error, and is never written over.
func (d *Dir) ZoneKeys(origin string, p dnssec.Policy, t dnssec.Timing, now time.Time) (*dnssec.ZoneKeys, error) {
	origin = dns.CanonicalName(origin)
	d.keyMu.Lock()
	defer d.keyMu.Unlock()
	zk, err := d.loadKeys(origin)
	if err != nil {
		return nil, err
	}
	all := zk.all
	seenMark := d.keyFile(origin, dsSeenSuffix)
	seenAt, err := readSeen(seenMark)
	if err != nil {
		return nil, fmt.Errorf("keys of %s: %w", origin, err)
	}
	changed := false
	if !seenAt.IsZero() {
		all, changed = dnssec.MarkDSSeen(all, seenAt)
	}
	all, advanced, next, err := dnssec.Advance(origin, all, p, t, now)
	if err != nil {
		return nil, fmt.Errorf("keys of %s: %w", origin, err)
	}
	if zk.unsigning != (dnssec.Unsigning{}) {
		// dnssec: is back before the zone went unsigned: it stays so.
		zk.unsigning, changed = dnssec.Unsigning{}, true
		os.Remove(d.keyFile(origin, dsGoneSuffix))
	}
	epoch, nextEpoch := dnssec.SignatureEpoch(origin, now, p.Refresh)
	if !changed && !advanced && zk.view != nil && !zk.view.Deleting && zk.view.Epoch == epoch && samePolicy(zk.policy, p) {
		return zk.view, nil
	}
	if changed || advanced {
		if err := d.saveKeys(origin, all, zk.unsigning); err != nil {
			return nil, err
		}
	}
	if !seenAt.IsZero() {
		d.marksTaken = append(d.marksTaken, seenMark) // removed once saved
	}
	zk.all, zk.policy = all, p
	zk.view = withEpoch(dnssec.NewZoneKeys(origin, all, next), epoch, nextEpoch)
	return zk.view, nil
}

// withEpoch stamps a view with its signature period, and makes the start
// of the next one an event: the zone is built again then, its serial
// moves, and secondaries transfer fresh signatures.
func withEpoch(v *dnssec.ZoneKeys, epoch int64, next time.Time) *dnssec.ZoneKeys {
	v.Epoch = epoch
	if v.Next.IsZero() || next.Before(v.Next) {
		v.Next = next
	}
	return v
}

func samePolicy(a, b dnssec.Policy) bool {
	return a.Algorithm == b.Algorithm && a.Split == b.Split && a.ZSKLifetime == b.ZSKLifetime && a.KSKLifetime == b.KSKLifetime
}

// loadKeys reads the zone's key file once. Callers hold keyMu.
func (d *Dir) loadKeys(origin string) (*zoneKeys, error) {
	if d.keys == nil {
		d.keys = make(map[string]*zoneKeys)
	}
	zk := d.keys[origin]
	if zk == nil {
		zk = &zoneKeys{}
		d.keys[origin] = zk
	}
	if zk.loaded {
		return zk, nil
	}
	all, u, err := readKeys(origin, d.keyFile(origin, ".json"))
	if err != nil {
		return nil, err
	}
	zk.all, zk.unsigning, zk.loaded = all, u, true
	return zk, nil
}

func readKeys(origin, path string) ([]*dnssec.Key, dnssec.Unsigning, error) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, dnssec.Unsigning{}, nil
	case err != nil:
		return nil, dnssec.Unsigning{}, fmt.Errorf("keys of %s: %w", origin, err)
	}
	all, u, err := dnssec.UnmarshalZone(origin, b)
	if err != nil {
		return nil, u, fmt.Errorf("keys of %s: %s: %w", origin, path, err)
	}
	return all, u, nil
}

// saveKeys queues the zone's key file for FlushKeys. Callers hold keyMu.
func (d *Dir) saveKeys(origin string, all []*dnssec.Key, u dnssec.Unsigning) error {
	text, err := dnssec.MarshalZone(all, u)
	if err != nil {
		return fmt.Errorf("keys of %s: %w", origin, err)
	}
	if d.keysDue == nil {
		d.keysDue = make(map[string][]byte)
	}
	d.keysDue[d.keyFile(origin, ".json")] = text
	return nil
}

// FlushKeys writes every key file changed since the last flush,
// atomically (temporary files, a sync, renames, a sync of the directory).
// Until it returns nil, no key changed since must be served.
func (d *Dir) FlushKeys() error {
	d.keyMu.Lock()
	defer d.keyMu.Unlock()
	if len(d.keysDue) == 0 {
		for _, m := range d.marksTaken {
			os.Remove(m)
		}
		d.marksTaken = nil
		return nil
	}
	if err := os.MkdirAll(filepath.Join(d.path, keysDir), 0o700); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	files := make([]pending, 0, len(d.keysDue))
	for path, text := range d.keysDue {
		files = append(files, pending{path: path, text: text})
	}
	if err := writeAll(files); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	for _, m := range d.marksTaken {
		os.Remove(m) // taken in and saved; one left over is taken in again, harmlessly
	}
	d.keysDue, d.marksTaken = nil, nil
	return nil
}

// Keys reads every key of the zone origin as its file holds them, for
// mxdns dnssec status: nothing is made or changed.
func (d *Dir) Keys(origin string) ([]*dnssec.Key, error) {
	origin = dns.CanonicalName(origin)
	keys, _, err := readKeys(origin, d.keyFile(origin, ".json"))
	return keys, err
}

// HasKeys reports whether the zone origin has keys in its DNSKEY set: a
// zone whose dnssec: was removed is then still signed (UnsignKeys).
func (d *Dir) HasKeys(origin string) bool {
	origin = dns.CanonicalName(origin)
	d.keyMu.Lock()
	defer d.keyMu.Unlock()
	zk, err := d.loadKeys(origin)
	if err != nil {
		return true // UnsignKeys reports the error
	}
	for _, k := range zk.all {
		if !k.Published.IsZero() && k.Removed.IsZero() {
			return true
		}
	}
	return false
}

// UnsignKeys moves the zone origin, whose dnssec: was removed, towards
// unsigned (dnssec.AdvanceUnsigning), saving every change first. It
// returns the keys to keep signing with, or nil once the zone is
// unsigned.
func (d *Dir) UnsignKeys(origin string, t dnssec.Timing, now time.Time) (*dnssec.ZoneKeys, error) {
	origin = dns.CanonicalName(origin)
	d.keyMu.Lock()
	defer d.keyMu.Unlock()
	zk, err := d.loadKeys(origin)
	if err != nil {
		return nil, err
	}
	u := zk.unsigning
	goneMark := d.keyFile(origin, dsGoneSuffix)
	goneAt, err := readSeen(goneMark)
	if err != nil {
		return nil, fmt.Errorf("keys of %s: %w", origin, err)
	}
	marked := !goneAt.IsZero() && !u.Since.IsZero() && u.DSGone.IsZero()
	if marked {
		u.DSGone = goneAt
	}
	all, u, changed, next, signed := dnssec.AdvanceUnsigning(zk.all, u, t, now)
	epoch, nextEpoch := dnssec.SignatureEpoch(origin, now, dnssec.DefaultPolicy().Refresh)
	if !changed && !marked && zk.view != nil && zk.view.Deleting && zk.view.Epoch == epoch {
		return zk.view, nil
	}
	if changed || marked {
		if err := d.saveKeys(origin, all, u); err != nil {
			return nil, err
		}
	}
	if !goneAt.IsZero() {
		d.marksTaken = append(d.marksTaken, goneMark)
	}
	zk.all, zk.unsigning = all, u
	if !signed {
		zk.view = nil
		return nil, nil
	}
	zk.view = withEpoch(dnssec.NewZoneKeys(origin, all, next), epoch, nextEpoch)
	zk.view.Deleting, zk.view.WaitingForDSGone = true, u.DSGone.IsZero()
	return zk.view, nil
}

const dsGoneSuffix = ".ds-gone"

// MarkDSGone records that the parent of origin no longer publishes its
// DS, seen at now: `mxdns dnssec ds-gone` writes it, the next UnsignKeys
// takes it in.
func (d *Dir) MarkDSGone(origin string, now time.Time) error {
	path := d.keyFile(dns.CanonicalName(origin), dsGoneSuffix)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeAll([]pending{{path: path, text: []byte(now.UTC().Format(time.RFC3339) + "\n")}})
}

// DSGoneMarked reports whether a mark of the DS gone waits for the next
// UnsignKeys of origin.
func (d *Dir) DSGoneMarked(origin string) bool {
	_, err := os.Stat(d.keyFile(dns.CanonicalName(origin), dsGoneSuffix))
	return err == nil
}

const dsSeenSuffix = ".ds-seen"

// MarkDSSeen records that the parent of origin publishes the DS of the key
// submitted to it, seen at now: `mxdns dnssec ds-seen` and the server's
// look at the parents write it, the next ZoneKeys takes it in. It is a
// file of its own, so that a command run beside the server never writes
// the key file the server keeps.
func (d *Dir) MarkDSSeen(origin string, now time.Time) error {
	path := d.keyFile(dns.CanonicalName(origin), dsSeenSuffix)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeAll([]pending{{path: path, text: []byte(now.UTC().Format(time.RFC3339) + "\n")}})
}

// DSSeenMarked reports whether a mark of the DS seen waits for the next
// ZoneKeys of origin.
func (d *Dir) DSSeenMarked(origin string) bool {
	_, err := os.Stat(d.keyFile(dns.CanonicalName(origin), dsSeenSuffix))
	return err == nil
}

func readSeen(path string) (time.Time, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(string(b)))
	if err != nil {
		// Written by hand, perhaps: the mark itself is what counts.
		if fi, serr := os.Stat(path); serr == nil {
			return fi.ModTime(), nil
		}
		return time.Now(), nil
	}
	return t, nil
}

// keyFile is where the keys of origin are kept: its name without the
// final dot ("root" for the root zone), any octet but a lower-case
// letter, digit, '-' or '_' between its labels written as %XX, then
// suffix.
func (d *Dir) keyFile(origin, suffix string) string { return keyFile(d.path, origin, suffix) }

func keyFile(dir, origin, suffix string) string {
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
	return filepath.Join(dir, keysDir, b.String()+suffix)
}
