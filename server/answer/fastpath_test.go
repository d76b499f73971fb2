package answer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// exampleConfigs are every configuration shipped at the top of the repo.
func exampleConfigs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../config*.example.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example configs: %v", err)
	}
	return files
}

// questionsOf lists every owner name of every zone with every type asked
// of mail servers, plus names that do not exist.
func questionsOf(t *testing.T, snap *zone.Snapshot) []dns.Question {
	t.Helper()
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeTXT, dns.TypeSRV, dns.TypePTR,
		dns.TypeNS, dns.TypeSOA, dns.TypeCNAME, dns.TypeCAA, dns.TypeTLSA, dns.TypeANY, dns.TypeDS, 666}
	var out []dns.Question
	seen := map[string]bool{}
	for _, z := range snap.Zones() {
		rrs, _ := snap.Records(z.Origin)
		names := []string{"nonexistent." + z.Origin, "a.b.nonexistent." + z.Origin, "example.invalid."}
		for _, rr := range rrs {
			names = append(names, rr.Header().Name)
		}
		for _, n := range names {
			if seen[n] {
				continue
			}
			seen[n] = true
			for _, typ := range types {
				out = append(out, dns.Question{Name: n, Qtype: typ, Qclass: dns.ClassINET})
			}
		}
	}
	return out
}

// mixCase writes a name the way a 0x20 resolver might.
func mixCase(s string) string {
	b := []byte(s)
	for i := range b {
		if i%2 == 0 && 'a' <= b[i] && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// listenOf is a listen address that maps to link (any address for NoLink).
func listenOf(snap *zone.Snapshot, link int) string {
	if link >= 0 && len(snap.Settings().Links[link].Listen) > 0 {
		return snap.Settings().Links[link].Listen[0]
	}
	return "no-link"
}

// handlerReply is the general path's reply to query: Answer, as over
// TCP (no rate limiting, no truncation), with the given rotation, from
// the served state without its cache, so that neither the fast path
// answers nor the reply is kept.
func handlerReply(t testing.TB, s *tsrv, query []byte, link int, rotate uint32) []byte {
	t.Helper()
	st := *s.state.Load()
	st.cache = nil
	var conn frames
	s.Answer(&st, &Request{Query: query, Listen: listenOf(st.Snap, link), Rotate: rotate, Peer: fuzzPeer{}, Stream: &conn})
	if len(conn.out) != 1 {
		t.Fatalf("%d replies, want 1", len(conn.out))
	}
	return conn.out[0]
}

// warm answers query by the general path as a reader does after a miss
// (the handler, then fillAfterMiss), twice, so that the cache admits it
// in rotation rotate, unless it holds it already.
func warm(t testing.TB, s *tsrv, query []byte, link int, rotate uint32, udp bool) {
	t.Helper()
	st := s.state.Load()
	for range 2 {
		var q wireQuery
		if _, e := st.fastAnswer(query, link, rotate, udp, &q, nil); e != nil {
			return
		}
		req := new(dns.Msg)
		if err := req.Unpack(query); err != nil {
			t.Fatal(err)
		}
		w := &writer{peer: fuzzPeer{}}
		h := &handler{a: s.Answerer, addr: listenOf(st.Snap, link), udp: udp}
		st.fillAfterMiss(&q, h.serve(w, req, st, link, rotate))
	}
}

// TestFastPathGivesTheGeneralPathsBytes asks every question of every
// example zone in several shapes, with every rotation and link, and
// compares the fast path's reply byte for byte with the handler's.
func TestFastPathGivesTheGeneralPathsBytes(t *testing.T) {
	for _, file := range exampleConfigs(t) {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		snap, diags := zone.FromYAML(file, text, nil)
		if err := diags.Err(); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		links := []int{zone.NoLink}
		for i, l := range snap.Settings().Links {
			if len(l.Listen) > 0 {
				links = append(links, i)
			}
		}
		s := testServer(t, snap)
		st := s.state.Load()
		compared := 0
		for _, q := range questionsOf(t, snap) {
			for _, shape := range queryShapes(q) {
				query := packQuery(t, shape)
				for _, link := range links {
					for rot := uint32(1); rot < 8; rot++ {
						want := handlerReply(t, s, query, link, rot)
						for _, udp := range []bool{true, false} {
							var wq wireQuery
							got, e := st.fastAnswer(query, link, rot, udp, &wq, nil)
							if e == nil {
								if wq.keyLen == 0 {
									continue // not a fast-path shape
								}
								warm(t, s, query, link, rot, udp)
								got, e = st.fastAnswer(query, link, rot, udp, &wq, nil)
							}
							if e == nil {
								continue // too large for UDP, or not cacheable
							}
							compared++
							if !bytes.Equal(got, want) {
								t.Fatalf("%s: %s %s link %d udp %v rotation %d:\nfast:    %x\ngeneral: %x",
									file, shape.Question[0].Name, dns.TypeToString[q.Qtype], link, udp, rot, got, want)
							}
						}
					}
				}
			}
		}
		if compared == 0 {
			t.Fatalf("%s: nothing compared", file)
		}
		t.Logf("%s: %d replies compared", filepath.Base(file), compared)
	}
}

func queryShapes(q dns.Question) []*dns.Msg {
	var out []*dns.Msg
	for i, name := range []string{q.Name, mixCase(q.Name), strings.ToUpper(q.Name)} {
		m := new(dns.Msg)
		m.Id = uint16(1000 + i)
		m.Question = []dns.Question{{Name: name, Qtype: q.Qtype, Qclass: q.Qclass}}
		m.RecursionDesired = i != 1
		m.CheckingDisabled = i == 2
		out = append(out, m)
		e := m.Copy()
		e.SetEdns0(4096, i == 1)
		out = append(out, e)
		small := m.Copy()
		small.SetEdns0(512, false)
		out = append(out, small)
	}
	return out
}

func TestFastPathAllocatesNothing(t *testing.T) {
	snap, diags := zone.FromYAML("t.yaml", []byte(testConfig), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	s := testServer(t, snap)
	st := s.state.Load()
	m := new(dns.Msg)
	m.SetQuestion("Example.com.", dns.TypeMX)
	m.SetEdns0(1232, false)
	query := packQuery(t, m)
	var q wireQuery
	if _, e := st.fastAnswer(query, zone.NoLink, 0, true, &q, nil); e != nil {
		t.Fatal("hit before fill")
	}
	warm(t, s, query, zone.NoLink, 1, true)
	out := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, e := st.fastAnswer(query, zone.NoLink, 1, true, &q, out); e == nil {
			t.Fatal("miss after fill")
		}
	})
	if allocs != 0 {
		t.Errorf("fast path allocates %.1f times per query, want 0", allocs)
	}
}

// TestQueryLogStateCachesNothing: with query_log on every query goes to
// the handler, which logs it, and the fast path never parses it. The
// reader's wireQuery then still holds an earlier query, here one parsed
// before a reload turned the log on; answering must not cache for it.
func TestQueryLogStateCachesNothing(t *testing.T) {
	snap, diags := zone.FromYAML("t.yaml", []byte("query_log: true\n"+testConfig), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	s := testServer(t, snap)
	st := s.state.Load()
	if st.cache != nil {
		t.Error("a state with the query log on has an answer cache, which nothing reads")
	}
	var q wireQuery
	if !parseWireQuery(packQuery(t, query("mx1.example.com.", dns.TypeA)), zone.NoLink, &q) {
		t.Fatal("earlier query not parsed")
	}
	earlier := append([]byte(nil), q.key[:q.keyLen]...)

	reply := new(dns.Msg)
	if err := reply.Unpack(s.answerDatagram(st, packQuery(t, query("example.com.", dns.TypeMX)), "no-link", new(arrival), 1, fuzzPeer{}, &q, nil)); err != nil {
		t.Fatal(err)
	}
	if len(reply.Answer) != 2 || reply.Question[0].Name != "example.com." {
		t.Fatalf("example.com. MX answered:\n%v", reply)
	}
	if st.cache != nil {
		if _, e := st.cache.get(earlier, 0); e != nil {
			t.Error("answering example.com. MX cached a reply for the earlier query, mx1.example.com. A")
		}
	}
}
