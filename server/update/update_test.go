package update

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

const config = `
tsig_keys:
  acme: {algorithm: hmac-sha256, secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="}
  other: {algorithm: hmac-sha256, secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="}
updates:
  allow:
    - key: acme
      names: [_acme-challenge.example.com., _acme-challenge.*.example.com.]
      types: [TXT]
    - key: acme
      names: [_25._tcp.mx1.example.com.]
      types: [TLSA]
zones:
  example.com:
    ns: [ns1]
    records:
      ns1: {a: 192.0.2.53}
      _acme-challenge.mx2: {txt: "by hand"}
      _acme-challenge.www: {cname: elsewhere.example.net.}
`

// store is a Store in memory; fail makes its saves fail.
type store struct {
	mu    sync.Mutex
	saved map[string][]zone.UpdatedRecord
	saves int
	fail  bool
}

func (s *store) SaveUpdates(origin string, recs []zone.UpdatedRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("disk full")
	}
	if s.saved == nil {
		s.saved = map[string][]zone.UpdatedRecord{}
	}
	s.saved[origin] = slices.Clone(recs)
	s.saves++
	return nil
}

type fixture struct {
	t         *testing.T
	snap      *zone.Snapshot
	u         *Updater
	st        *store
	now       time.Time
	published int
	counts    map[string]int
	warned    []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	snap, diags := zone.FromYAML("config.yaml", []byte(config), nil)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, snap: snap, st: &store{}, now: time.Unix(1_900_000_000, 0), counts: map[string]int{}}
	f.u = New(Config{Store: f.st, Now: func() time.Time { return f.now },
		Publish: func() { f.published++ },
		Count:   func(r string) { f.counts[r]++ },
		Warn:    func(msg string, args ...any) { f.warned = append(f.warned, fmt.Sprint(append([]any{msg}, args...)...)) }})
	return f
}

// msg is an UPDATE of zone with prerequisites and updates in master file
// form, signed (as the pipeline leaves it once verified) by key, or not
// when key is "".
func msg(t *testing.T, zoneName, key string, prereqs, updates []string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetUpdate(zoneName)
	parse := func(list []string) []dns.RR {
		var out []dns.RR
		for _, s := range list {
			rr, err := dns.NewRR(s)
			if f := strings.Fields(s); err != nil && len(f) == 4 {
				// "name ttl CLASS TYPE": no data, which the parser
				// does not take.
				rr, err = dns.TypeToRR[dns.StringToType[f[3]]](), nil
				ttl, _ := strconv.Atoi(f[1])
				*rr.Header() = dns.RR_Header{Name: f[0], Rrtype: dns.StringToType[f[3]], Class: dns.StringToClass[f[2]], Ttl: uint32(ttl)}
			}
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			out = append(out, rr)
		}
		return out
	}
	m.Answer, m.Ns = parse(prereqs), parse(updates)
	// Class ANY and NONE records carry no data on the wire: pack and
	// read back, as the pipeline would.
	if key != "" {
		m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out := new(dns.Msg)
	if err := out.Unpack(b); err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) update(m *dns.Msg) int {
	return f.u.Update(f.snap, m, "192.0.2.1:53")
}

func (f *fixture) records() []string {
	var out []string
	for _, r := range f.u.Records()["example.com."] {
		out = append(out, strings.Join(strings.Fields(r.RR.String()), " "))
	}
	slices.Sort(out)
	return out
}

const add1 = `_acme-challenge.example.com. 60 IN TXT "token-1"`

func TestAddAndDelete(t *testing.T) {
	f := newFixture(t)
	if rc := f.update(msg(t, "example.com.", "acme.", nil, []string{add1, `_acme-challenge.MX1.example.com. 60 IN TXT "token-2"`})); rc != dns.RcodeSuccess {
		t.Fatalf("add: %s", dns.RcodeToString[rc])
	}
	want := []string{`_acme-challenge.example.com. 60 IN TXT "token-1"`, `_acme-challenge.mx1.example.com. 60 IN TXT "token-2"`}
	if got := f.records(); !slices.Equal(got, want) {
		t.Fatalf("records %q, want %q", got, want)
	}
	if f.st.saves != 1 || f.published != 1 || len(f.st.saved["example.com."]) != 2 {
		t.Errorf("saves %d, published %d, saved %v: want one of each, before the reply", f.st.saves, f.published, f.st.saved)
	}
	// Again: nothing changes, nothing is written.
	if rc := f.update(msg(t, "example.com.", "acme.", nil, []string{add1})); rc != dns.RcodeSuccess {
		t.Fatalf("add again: %s", dns.RcodeToString[rc])
	}
	if f.st.saves != 1 || f.published != 1 {
		t.Errorf("a duplicate add wrote or published: saves %d, published %d", f.st.saves, f.published)
	}
	// The files' record is there already: ignored, not added.
	f.update(msg(t, "example.com.", "acme.", nil, []string{`_acme-challenge.mx2.example.com. 60 IN TXT "by hand"`}))
	if got := f.records(); len(got) != 2 {
		t.Errorf("adding the files' own record kept it: %q", got)
	}

	// Delete one record (class NONE), then a set (class ANY), as lego
	// and certbot do.
	del := new(dns.Msg)
	del.SetUpdate("example.com.")
	rr, _ := dns.NewRR(add1)
	del.Remove([]dns.RR{rr})
	del.SetTsig("acme.", dns.HmacSHA256, 300, time.Now().Unix())
	if rc := f.update(del); rc != dns.RcodeSuccess {
		t.Fatalf("delete: %s", dns.RcodeToString[rc])
	}
	if got := f.records(); !slices.Equal(got, want[1:]) {
		t.Fatalf("after delete: %q, want %q", got, want[1:])
	}
	rr2, _ := dns.NewRR(`_acme-challenge.mx1.example.com. 60 IN TXT "x"`)
	del2 := new(dns.Msg)
	del2.SetUpdate("example.com.")
	del2.RemoveRRset([]dns.RR{rr2})
	del2.SetTsig("acme.", dns.HmacSHA256, 300, time.Now().Unix())
	if rc := f.update(del2); rc != dns.RcodeSuccess || len(f.records()) != 0 {
		t.Fatalf("delete set: %s, left %q", dns.RcodeToString[rc], f.records())
	}
	// The files' records are never deleted.
	del3 := new(dns.Msg)
	del3.SetUpdate("example.com.")
	del3.RemoveName([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: "_acme-challenge.mx2.example.com."}}})
	del3.SetTsig("acme.", dns.HmacSHA256, 300, time.Now().Unix())
	if rc := f.update(del3); rc != dns.RcodeSuccess {
		t.Fatalf("delete name: %s", dns.RcodeToString[rc])
	}
	if got := f.snap.FileRecords("example.com.", "_acme-challenge.mx2.example.com."); len(got) != 1 {
		t.Errorf("files' record: %v", got)
	}
	if f.counts["ok"] != 6 {
		t.Errorf("counts %v, want 6 ok", f.counts)
	}
}

func TestRefusals(t *testing.T) {
	for _, c := range []struct {
		name             string
		zone, key        string
		prereqs, updates []string
		rcode            int
		logged           string
	}{
		{"unsigned", "example.com.", "", nil, []string{add1}, dns.RcodeRefused, "not signed"},
		{"a key no rule names", "example.com.", "other.", nil, []string{add1}, dns.RcodeRefused, "no rule"},
		{"a name not allowed", "example.com.", "acme.", nil, []string{`www.example.com. 60 IN TXT "x"`}, dns.RcodeRefused, "not one the key may update"},
		{"two labels for one *", "example.com.", "acme.", nil, []string{`_acme-challenge.a.b.example.com. 60 IN TXT "x"`}, dns.RcodeRefused, "not one the key may update"},
		{"one allowed, one not: all refused", "example.com.", "acme.", nil, []string{add1, `www.example.com. 60 IN TXT "x"`}, dns.RcodeRefused, "not one the key may update"},
		{"a type not allowed", "example.com.", "acme.", nil, []string{`_acme-challenge.example.com. 60 IN A 192.0.2.1`}, dns.RcodeRefused, "may not update records of that type"},
		{"a type allowed elsewhere", "example.com.", "acme.", nil, []string{`_25._tcp.mx1.example.com. 60 IN TXT "x"`}, dns.RcodeRefused, "may not update records of that type"},
		{"a name with a CNAME", "example.com.", "acme.", nil, []string{`_acme-challenge.www.example.com. 60 IN TXT "x"`}, dns.RcodeRefused, "cannot hold"},
		{"a zone not served", "example.org.", "acme.", nil, []string{`_acme-challenge.example.org. 60 IN TXT "x"`}, dns.RcodeNotAuth, "no such zone"},
		{"a name outside the zone", "example.com.", "acme.", nil, []string{`_acme-challenge.example.org. 60 IN TXT "x"`}, dns.RcodeNotZone, "outside the zone"},
		{"class ANY with a TTL", "example.com.", "acme.", nil, []string{`_acme-challenge.example.com. 60 ANY TXT`}, dns.RcodeFormatError, "malformed"},
		{"an add of type ANY", "example.com.", "acme.", nil, []string{`_acme-challenge.example.com. 60 IN ANY`}, dns.RcodeFormatError, "malformed"},
		{"prerequisite: name in use", "example.com.", "acme.", []string{`_acme-challenge.example.com. 0 ANY ANY`}, []string{add1}, dns.RcodeNameError, "not in use"},
		{"prerequisite: set exists", "example.com.", "acme.", []string{`_acme-challenge.example.com. 0 ANY TXT`}, []string{add1}, dns.RcodeNXRrset, "no such set"},
		{"prerequisite: name not in use", "example.com.", "acme.", []string{`_acme-challenge.mx2.example.com. 0 NONE ANY`}, []string{add1}, dns.RcodeYXDomain, "is in use"},
		{"prerequisite: set does not exist", "example.com.", "acme.", []string{`_acme-challenge.mx2.example.com. 0 NONE TXT`}, []string{add1}, dns.RcodeYXRrset, "set exists"},
		{"prerequisite: value", "example.com.", "acme.", []string{`_acme-challenge.mx2.example.com. 0 IN TXT "not this"`}, []string{add1}, dns.RcodeNXRrset, "not as given"},
		{"prerequisite with a TTL", "example.com.", "acme.", []string{`_acme-challenge.mx2.example.com. 5 IN TXT "by hand"`}, []string{add1}, dns.RcodeFormatError, "TTL must be 0"},
		{"prerequisite outside the zone", "example.com.", "acme.", []string{`example.org. 0 ANY ANY`}, []string{add1}, dns.RcodeNotZone, "outside the zone"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			if rc := f.update(msg(t, c.zone, c.key, c.prereqs, c.updates)); rc != c.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[rc], dns.RcodeToString[c.rcode])
			}
			if got := f.records(); len(got) != 0 || f.st.saves != 0 || f.published != 0 {
				t.Errorf("a refused update changed something: records %q, saves %d, published %d", got, f.st.saves, f.published)
			}
			if len(f.warned) != 1 || !strings.Contains(f.warned[0], c.logged) {
				t.Errorf("logged %q, want one line saying %q", f.warned, c.logged)
			}
		})
	}
}

func TestPrerequisitesThatHold(t *testing.T) {
	f := newFixture(t)
	rc := f.update(msg(t, "example.com.", "acme.", []string{
		`_acme-challenge.mx2.example.com. 0 ANY ANY`,
		`_acme-challenge.mx2.example.com. 0 ANY TXT`,
		`_acme-challenge.mx2.example.com. 0 IN TXT "by hand"`,
		`_acme-challenge.example.com. 0 NONE ANY`,
		`_acme-challenge.example.com. 0 NONE TXT`,
	}, []string{add1}))
	if rc != dns.RcodeSuccess || len(f.records()) != 1 {
		t.Fatalf("%s, records %q", dns.RcodeToString[rc], f.records())
	}
	// An updated record counts for the prerequisites of the next.
	if rc := f.update(msg(t, "example.com.", "acme.", []string{add1[:strings.Index(add1, " 60 ")] + ` 0 IN TXT "token-1"`}, nil)); rc != dns.RcodeSuccess {
		t.Errorf("prerequisite on an updated record: %s", dns.RcodeToString[rc])
	}
}

func TestStoreFailureServesNothing(t *testing.T) {
	f := newFixture(t)
	f.st.fail = true
	if rc := f.update(msg(t, "example.com.", "acme.", nil, []string{add1})); rc != dns.RcodeServerFailure {
		t.Errorf("rcode %s, want SERVFAIL", dns.RcodeToString[rc])
	}
	if len(f.records()) != 0 || f.published != 0 {
		t.Error("an update not kept was served")
	}
}

func TestRateLimitPerKey(t *testing.T) {
	f := newFixture(t)
	del := func() int {
		return f.update(msg(t, "example.com.", "acme.", nil, []string{`_acme-challenge.example.com. 0 ANY TXT`}))
	}
	for i := range rateBurst {
		if rc := del(); rc != dns.RcodeSuccess {
			t.Fatalf("update %d of the burst: %s", i+1, dns.RcodeToString[rc])
		}
	}
	if rc := del(); rc != dns.RcodeRefused {
		t.Fatalf("past the burst: %s, want REFUSED", dns.RcodeToString[rc])
	}
	if !strings.Contains(f.warned[len(f.warned)-1], "rate limit") {
		t.Errorf("logged %q", f.warned)
	}
	f.now = f.now.Add(time.Second)
	for i := range ratePerSecond {
		if rc := del(); rc != dns.RcodeSuccess {
			t.Fatalf("update %d a second later: %s", i+1, dns.RcodeToString[rc])
		}
	}
	if rc := del(); rc != dns.RcodeRefused {
		t.Fatalf("past the second's share: %s, want REFUSED", dns.RcodeToString[rc])
	}
}

func TestExpiry(t *testing.T) {
	f := newFixture(t)
	f.update(msg(t, "example.com.", "acme.", nil, []string{add1}))
	f.now = f.now.Add(30 * time.Minute)
	f.update(msg(t, "example.com.", "acme.", nil, []string{`_acme-challenge.example.com. 60 IN TXT "later"`}))
	published := f.published
	if next := f.u.expireDue(time.Hour); next != maxSleep || f.published != published {
		t.Errorf("nothing due: slept %v, published %d times more", next, f.published-published)
	}
	f.now = f.now.Add(30 * time.Minute)
	next := f.u.expireDue(time.Hour)
	if got := f.records(); len(got) != 1 || !strings.Contains(got[0], "later") {
		t.Errorf("after an hour: %q, want the later record alone", got)
	}
	if next != maxSleep || f.published != published+1 || len(f.st.saved["example.com."]) != 1 {
		t.Errorf("next %v, published %d more, saved %v", next, f.published-published, f.st.saved)
	}
}
