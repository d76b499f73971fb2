// Package update applies RFC 2136 dynamic updates, narrowed to what the
// configuration's updates: allows (ACME DNS-01 challenges, typically):
// it checks the zone, the signature's key, the prerequisites and every
// record against the rules, keeps the records added through a Store (the
// state directory) and has them served through Publish, before the
// update is answered. It holds no socket and no pointer to the server:
// the answer pipeline calls Update, the server gives it its handles.
package update

import (
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// Store keeps each zone's updated records across restarts
// (state.Dir.SaveUpdates): written whole, synced, before it returns.
type Store interface {
	SaveUpdates(origin string, recs []zone.UpdatedRecord) error
}

// Config is what an Updater is given.
type Config struct {
	Log *slog.Logger
	// Warn logs what a client can provoke at will (a refusal), throttled
	// per message.
	Warn func(msg string, args ...any)
	// Store keeps the records; nil (no state directory) refuses every
	// update, since a record not kept would vanish at the next restart.
	Store Store
	// Publish serves the records Records gives now, and returns once
	// they are served.
	Publish func()
	// Count counts an update by its result: ok, refused, notauth,
	// formerr, notzone, prereq, servfail.
	Count func(result string)
	// Initial are the records kept before this process (Store's).
	Initial map[string][]zone.UpdatedRecord
	// Now is the clock of Added and expiry; nil is time.Now.
	Now func() time.Time
}

// Updater applies updates one at a time and holds the records added.
type Updater struct {
	cfg Config
	// mu keeps one update (or expiry) at a time, from its checks to its
	// publication, so that each sees every one before it.
	mu    sync.Mutex
	rates map[string]*bucket // by key, under mu
	// live is every zone's records, replaced whole at each change and
	// never written once stored: a reload reads it without mu.
	live atomic.Pointer[map[string][]zone.UpdatedRecord]
	wake chan struct{} // tells the expiry loop to look again
}

// New makes an Updater holding cfg.Initial.
func New(cfg Config) *Updater {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Warn == nil {
		cfg.Warn = cfg.Log.Warn
	}
	if cfg.Count == nil {
		cfg.Count = func(string) {}
	}
	if cfg.Publish == nil {
		cfg.Publish = func() {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	u := &Updater{cfg: cfg, rates: make(map[string]*bucket), wake: make(chan struct{}, 1)}
	live := maps.Clone(cfg.Initial)
	if live == nil {
		live = map[string][]zone.UpdatedRecord{}
	}
	u.live.Store(&live)
	return u
}

// Records returns every zone's updated records, by origin; a zone whose
// records were all deleted is listed with none. Nothing in it may be
// written.
func (u *Updater) Records() map[string][]zone.UpdatedRecord { return *u.live.Load() }

// refusal is an update refused: its rcode, the result it is counted as,
// and the reason logged.
type refusal struct {
	rcode  int
	result string
	msg    string
	args   []any
}

func refuse(rcode int, result, msg string, args ...any) *refusal {
	return &refusal{rcode: rcode, result: result, msg: msg, args: args}
}

// Update applies req, an UPDATE whose TSIG, if any, verified, against
// snap, the snapshot served, whose configuration has updates:. It
// returns the reply's rcode, once the records are kept and served.
func (u *Updater) Update(snap *zone.Snapshot, req *dns.Msg, client string) int {
	r := u.update(snap, req)
	if r != nil {
		u.cfg.Count(r.result)
		u.cfg.Warn("update refused: "+r.msg, append([]any{"client", client}, r.args...)...)
		return r.rcode
	}
	u.cfg.Count("ok")
	return dns.RcodeSuccess
}

// BadSignature counts and logs an update whose TSIG did not verify; the
// answer pipeline answers it NOTAUTH with the TSIG error.
func (u *Updater) BadSignature(req *dns.Msg, client string, err error) {
	u.cfg.Count("notauth")
	zone := ""
	if len(req.Question) == 1 {
		zone = req.Question[0].Name
	}
	u.cfg.Warn("update refused: bad TSIG", "client", client, "zone", zone, "key", req.IsTsig().Hdr.Name, "err", err)
}

// maxPerZone bounds the records updates may keep in one zone: far above
// the challenges of any certificate (at most 100 names each), far below
// what would fill a disk or a transfer.
const maxPerZone = 1000

func (u *Updater) update(snap *zone.Snapshot, req *dns.Msg) *refusal {
	pol := snap.Settings().Updates
	if len(req.Question) != 1 {
		return refuse(dns.RcodeFormatError, "formerr", "the zone section must hold one entry (RFC 2136 §3.1.1)", "entries", len(req.Question))
	}
	zq := req.Question[0]
	origin := dns.CanonicalName(zq.Name)
	if zq.Qtype != dns.TypeSOA {
		return refuse(dns.RcodeFormatError, "formerr", "the zone section's type must be SOA (RFC 2136 §3.1.1)", "zone", origin)
	}
	if zq.Qclass != dns.ClassINET || !snap.UpdatableZone(origin) {
		return refuse(dns.RcodeNotAuth, "notauth", "no such zone is served", "zone", origin)
	}
	t := req.IsTsig()
	if t == nil {
		return refuse(dns.RcodeRefused, "refused", "not signed: updates: wants a TSIG key", "zone", origin)
	}
	key := dns.CanonicalName(t.Hdr.Name)
	if !pol.HasKey(key) {
		return refuse(dns.RcodeRefused, "refused", "no rule of updates: allow names the key", "zone", origin, "key", key)
	}
	if u.cfg.Store == nil {
		return refuse(dns.RcodeServerFailure, "servfail", "no state directory to keep updated records in (set -state-dir)", "zone", origin)
	}

	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.cfg.Now()
	if !u.allow(key, now) {
		return refuse(dns.RcodeRefused, "refused", "rate limit: the key sends more than its share", "zone", origin, "key", key,
			"burst", rateBurst, "per_second", ratePerSecond)
	}
	old := u.Records()[origin]
	view := func(name string) []dns.RR { return append(snap.FileRecords(origin, name), liveAt(old, name)...) }
	if r := prerequisites(origin, req.Answer, view); r != nil {
		return r
	}
	if r := prescan(origin, req.Ns); r != nil {
		return r
	}
	if r := permitted(snap, pol, key, origin, req.Ns); r != nil {
		return r
	}
	typesAt := func(name string) []uint16 { return pol.Types(key, name) }
	fileAt := func(name string) []dns.RR { return snap.FileRecords(origin, name) }
	recs, added, deleted := apply(old, req.Ns, typesAt, fileAt, now)
	if added == 0 && deleted == 0 {
		return nil // nothing changes: every add was there already, every delete gone
	}
	if len(recs) > maxPerZone {
		return refuse(dns.RcodeRefused, "refused", "the zone would hold more updated records than allowed", "zone", origin, "records", len(recs), "max", maxPerZone)
	}
	if err := u.cfg.Store.SaveUpdates(origin, recs); err != nil {
		u.cfg.Log.Error("update not applied: the state directory did not keep it", "zone", origin, "err", err)
		return &refusal{rcode: dns.RcodeServerFailure, result: "servfail", msg: "not kept", args: []any{"zone", origin, "err", err}}
	}
	u.set(origin, recs)
	u.cfg.Publish()
	u.cfg.Log.Info("update", "zone", origin, "key", key, "added", added, "deleted", deleted, "records", len(recs))
	u.poke()
	return nil
}

// set replaces the records of origin. Callers hold mu.
func (u *Updater) set(origin string, recs []zone.UpdatedRecord) {
	next := maps.Clone(*u.live.Load())
	next[origin] = recs
	u.live.Store(&next)
}

func liveAt(recs []zone.UpdatedRecord, name string) []dns.RR {
	var out []dns.RR
	for _, r := range recs {
		if r.RR.Header().Name == name {
			out = append(out, r.RR)
		}
	}
	return out
}
