package server

import (
	"errors"
	"slices"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
	"github.com/mxdns/mxdns/server/answer"
	"github.com/mxdns/mxdns/zone"
)

// KeyKeeper keeps signing keys: the state directory does
// (state.Dir.ZoneKeys), making a zone's keys on first use.
type KeyKeeper interface {
	ZoneKeys(origin string, p dnssec.Policy, now time.Time) (*dnssec.ZoneKeys, error)
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

// keySource gives zone.Open the DNSKEY records of signed zones.
type keySource struct{ keeper Keeper }

func (ks keySource) DNSKEYs(origin string, p dnssec.Policy) ([]dns.RR, error) {
	kk, ok := ks.keeper.(KeyKeeper)
	if !ok {
		return nil, errNoStateDir
	}
	keys, err := kk.ZoneKeys(origin, p, time.Now())
	if err != nil {
		return nil, err
	}
	return keys.DNSKEYs(0), nil
}

// loadOptions are what every load of the server's configuration shares.
func (s *Server) loadOptions() zone.Options {
	return zone.Options{Memory: s.keeper, Keys: keySource{s.keeper}, Cancel: s.stopping}
}

// signersFor makes the signers of snap's signed zones, keeping those of
// prev whose keys and policy are the same: a reload of ten thousand
// signed zones makes signers only for the zones whose keys changed.
func (s *Server) signersFor(snap *zone.Snapshot, prev answer.Signers) answer.Signers {
	origins := snap.SignedZones()
	if len(origins) == 0 {
		return nil
	}
	kk, _ := s.keeper.(KeyKeeper)
	out := make(answer.Signers, len(origins))
	for _, origin := range origins {
		p, _ := snap.Signing(origin)
		if kk == nil {
			continue // the load reported it: the zone has no keys
		}
		keys, err := kk.ZoneKeys(origin, p, time.Now())
		if err != nil {
			continue // the load reported it
		}
		if old := prev[origin]; old != nil && old.Keys() == keys && samePolicy(old.Policy(), p) {
			out[origin] = old
			continue
		}
		out[origin] = dnssec.NewSigner(keys, p, s.signatures)
	}
	return out
}

func samePolicy(a, b dnssec.Policy) bool {
	return slices.Equal(a.Parents, b.Parents) && a.SignatureLifetime == b.SignatureLifetime && a.Refresh == b.Refresh &&
		a.Algorithm == b.Algorithm && a.Split == b.Split && a.NSEC3 == b.NSEC3 &&
		a.ZSKLifetime == b.ZSKLifetime && a.KSKLifetime == b.KSKLifetime
}

// keepSignaturesFresh makes the state again every resignEvery while some
// zone is signed, with an empty answer cache, so that cached replies give
// up their signatures long before those expire. It returns when the
// server stops.
func (s *Server) keepSignaturesFresh() {
	t := time.NewTicker(resignEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stopping:
			return
		case <-t.C:
		}
		s.mu.Lock()
		if st := s.state.Load(); !s.closed && st != nil && len(st.Signers()) > 0 {
			s.state.Store(answer.NewState(st.Snap, st.Up, st.Signers()))
		}
		s.mu.Unlock()
	}
}
