package server

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
	"github.com/mxdns/mxdns/server/answer"
	"github.com/mxdns/mxdns/server/ops"
	"github.com/mxdns/mxdns/zone"
)

// KeyKeeper keeps signing keys: the state directory does (state/keys.go),
// making a zone's keys on first use and moving them through rollovers.
type KeyKeeper interface {
	ZoneKeys(origin string, p dnssec.Policy, t dnssec.Timing, now time.Time) (*dnssec.ZoneKeys, error)
	// MarkDSSeen records that the parent publishes the DS of the key
	// submitted to it; DSSeenMarked reports a mark not yet taken in.
	MarkDSSeen(origin string, now time.Time) error
	DSSeenMarked(origin string) bool
	// HasKeys and UnsignKeys take a zone whose dnssec: was removed to
	// unsigned; MarkDSGone and DSGoneMarked as MarkDSSeen, for the
	// parent's deletion of the DS.
	HasKeys(origin string) bool
	UnsignKeys(origin string, t dnssec.Timing, now time.Time) (*dnssec.ZoneKeys, error)
	DSGoneMarked(origin string) bool
	// FlushKeys saves every key change since the last: a load is served
	// only after it returns nil.
	FlushKeys() error
}

// signatureCacheSize bounds the signatures remembered by content: about
// 200 bytes each, so some 50 MiB at most.
const signatureCacheSize = 1 << 18

// resignEvery is how often the state is made again while some zone is
// signed, so that no packed reply in the answer cache carries a
// signature for longer than this: signatures are made again (refresh)
// days before they expire.
const resignEvery = time.Hour

var errNoStateDir = errors.New("signing needs the state directory, where the keys are kept, and none is open")

// keySource gives zone.Open the keys of signed zones as they stand at
// the server's clock.
type keySource struct {
	keeper Keeper
	now    func() time.Time
}

func (ks keySource) HasKeys(origin string) bool {
	kk, ok := ks.keeper.(KeyKeeper)
	return ok && kk.HasKeys(origin)
}

func (ks keySource) Unsign(origin string, t dnssec.Timing) (*dnssec.ZoneKeys, error) {
	kk, ok := ks.keeper.(KeyKeeper)
	if !ok {
		return nil, errNoStateDir
	}
	return kk.UnsignKeys(origin, t, ks.now())
}

func (ks keySource) Keys(origin string, p dnssec.Policy, t dnssec.Timing) (*dnssec.ZoneKeys, error) {
	kk, ok := ks.keeper.(KeyKeeper)
	if !ok {
		return nil, errNoStateDir
	}
	return kk.ZoneKeys(origin, p, t, ks.now())
}

// loadOptions are what every load of the server's configuration shares.
func (s *Server) loadOptions() zone.Options {
	// The transferred view is built for the links up as the checks say
	// now; if they change before the build is served, setUp sees the
	// transfers lag the answers and has them follow (transferview.go).
	return zone.Options{Memory: s.keeper, Keys: keySource{s.keeper, s.now}, Cancel: s.stopping, TransferUp: s.checks.Up,
		CatalogIDs: s.catalogIDs()}
}

// saveKeys saves the key changes a load made, before it is served.
func (s *Server) saveKeys() error {
	if kk, ok := s.keeper.(KeyKeeper); ok {
		if err := kk.FlushKeys(); err != nil {
			return fmt.Errorf("dnssec keys not saved, so not served: %w", err)
		}
	}
	return nil
}

// signersFor makes the signers of snap's signed zones, each with the
// keys its zone was built with, keeping those of prev made with the same
// keys and policy: a reload of ten thousand signed zones makes signers
// only for the zones whose keys changed.
func (s *Server) signersFor(snap *zone.Snapshot, prev answer.Signers) answer.Signers {
	origins := snap.SignedZones()
	if len(origins) == 0 {
		return nil
	}
	out := make(answer.Signers, len(origins))
	for _, origin := range origins {
		keys := snap.Keys(origin)
		if keys == nil {
			continue // the load reported why it has none
		}
		p, _ := snap.Signing(origin)
		if old := prev[origin]; old != nil && old.Keys() == keys && old.Policy().Refresh == p.Refresh &&
			old.Policy().SignatureLifetime == p.SignatureLifetime {
			out[origin] = old
			continue
		}
		out[origin] = dnssec.NewSigner(keys, p, s.signatures)
	}
	return out
}

// dueZones lists the signed zones of snap whose keys must move at now: a
// key event has come, or a DS the parent publishes was marked seen.
func (s *Server) dueZones(snap *zone.Snapshot, now time.Time) []string {
	kk, _ := s.keeper.(KeyKeeper)
	var due []string
	for _, origin := range snap.SignedZones() {
		k := snap.Keys(origin)
		switch {
		case k == nil:
		case !k.Next.IsZero() && !now.Before(k.Next):
			due = append(due, origin)
		case k.WaitingForDS && kk != nil && kk.DSSeenMarked(origin):
			due = append(due, origin)
		case k.WaitingForDSGone && kk != nil && kk.DSGoneMarked(origin):
			due = append(due, origin)
		}
	}
	return due
}

// keyWakeEvery bounds how long the key loop sleeps: marks of a DS seen,
// and the parents' DS while a key waits for it, are looked at this often.
const keyWakeEvery = time.Minute

// runKeyEvents moves signed zones' keys when their events come, and
// makes the state again every resignEvery so that cached replies give up
// their signatures long before those expire. It returns when the server
// stops.
func (s *Server) runKeyEvents() {
	t := time.NewTimer(keyWakeEvery)
	defer t.Stop()
	lastState := time.Now()
	for {
		select {
		case <-s.stopping:
			return
		case <-t.C:
		}
		st := s.state.Load()
		if st == nil || len(st.Signers()) == 0 {
			t.Reset(keyWakeEvery)
			continue
		}
		s.askParents(st.Snap)
		if due := s.dueZones(st.Snap, s.now()); len(due) > 0 {
			s.log.Info("dnssec: key event", "zones", len(due))
			s.reloadRekey(due)
			lastState = time.Now()
		} else if time.Since(lastState) >= resignEvery {
			s.mu.Lock()
			if st := s.state.Load(); !s.closed && st != nil {
				s.state.Store(answer.NewState(st.Snap, st.Up, st.Signers()))
				for _, signer := range st.Signers() {
					signer.ResetExpiry()
				}
			}
			s.mu.Unlock()
			lastState = time.Now()
		}
		t.Reset(keyWakeEvery)
	}
}

// signedStatus is what /status and the metrics show of each signed zone
// of st.
func signedStatus(st *answer.State) map[string]ops.ZoneDNSSEC {
	out := make(map[string]ops.ZoneDNSSEC, len(st.Signers()))
	for origin, signer := range st.Signers() {
		keys := signer.Keys()
		z := ops.ZoneDNSSEC{SignatureExpiry: signer.SoonestExpiry(), NextKeyEvent: keys.Next, WaitingForDS: keys.WaitingForDS}
		for _, k := range keys.Keys {
			data := len(keys.SigningKeys(dns.TypeA)) > 0 && containsKey(keys.SigningKeys(dns.TypeA), k)
			dnskey := containsKey(keys.SigningKeys(dns.TypeDNSKEY), k)
			signs := map[[2]bool]string{{true, true}: "data and keys", {true, false}: "data", {false, true}: "keys", {false, false}: "nothing yet"}[[2]bool{data, dnskey}]
			z.Keys = append(z.Keys, ops.KeyStatus{Tag: k.Tag(), Role: k.Role.String(),
				Algorithm: strings.ToLower(dns.AlgorithmToString[k.DNSKEY.Algorithm]), Signs: signs})
		}
		out[origin] = z
	}
	return out
}

func containsKey(keys []*dnssec.Key, k *dnssec.Key) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}
