package server

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/dnssec"
	"github.com/mxdns/mxdns/internal/harness"
	statedir "github.com/mxdns/mxdns/state"
)

// fakeClock is the clock of key events, moved by the test.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// validator checks answers as a validating resolver does, from a DS as
// its trust anchor: the DNSKEY set must be signed by the key the DS names,
// and every set of the answer and authority sections by a key of that set.
type validator struct {
	t *testing.T
	s *Server
}

func (v *validator) ask(name string, qtype uint16) *dns.Msg {
	v.t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(4096, true)
	b := v.s.answerDatagram(v.s.state.Load(), packQuery(v.t, m), "127.0.0.1:0", 1)
	r := new(dns.Msg)
	if err := r.Unpack(b); err != nil {
		v.t.Fatal(err)
	}
	return r
}

// keys returns the DNSKEY set if the key anchor names signs it.
func (v *validator) keys(anchor *dns.DS) ([]*dns.DNSKEY, bool) {
	r := v.ask(anchor.Hdr.Name, dns.TypeDNSKEY)
	var keys []*dns.DNSKEY
	var set []dns.RR
	var sigs []*dns.RRSIG
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *dns.DNSKEY:
			keys, set = append(keys, rr), append(set, rr)
		case *dns.RRSIG:
			sigs = append(sigs, rr)
		}
	}
	for _, k := range keys {
		ds := k.ToDS(anchor.DigestType)
		if ds == nil || ds.Digest != anchor.Digest || k.KeyTag() != anchor.KeyTag {
			continue
		}
		for _, sig := range sigs {
			if sig.KeyTag == k.KeyTag() && sig.Verify(k, set) == nil && sig.ValidityPeriod(time.Now()) {
				return keys, true
			}
		}
	}
	return nil, false
}

// secure reports whether every question validates under anchor.
func (v *validator) secure(anchor *dns.DS) bool {
	v.t.Helper()
	keys, ok := v.keys(anchor)
	if !ok {
		return false
	}
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"example.com.", dns.TypeMX}, {"mx1.example.com.", dns.TypeA}, {"nope.example.com.", dns.TypeA}, {"example.com.", dns.TypeCDS}} {
		r := v.ask(q.name, q.qtype)
		for _, section := range [][]dns.RR{r.Answer, r.Ns} {
			if !signedBy(section, keys) {
				v.t.Logf("%s %s not validated by %v:\n%s", q.name, dns.TypeToString[q.qtype], anchor, r)
				return false
			}
		}
	}
	return true
}

// signedBy reports whether every set of rrs has a valid RRSIG by keys.
func signedBy(rrs []dns.RR, keys []*dns.DNSKEY) bool {
	type setKey struct {
		name  string
		rtype uint16
	}
	sets := map[setKey][]dns.RR{}
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeRRSIG {
			k := setKey{rr.Header().Name, rr.Header().Rrtype}
			sets[k] = append(sets[k], rr)
		}
	}
	for k, set := range sets {
		ok := false
		for _, rr := range rrs {
			sig, isSig := rr.(*dns.RRSIG)
			if !isSig || sig.Hdr.Name != k.name || sig.TypeCovered != k.rtype {
				continue
			}
			for _, key := range keys {
				if key.KeyTag() == sig.KeyTag && sig.Verify(key, set) == nil {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// cds is the CDS the zone publishes, as the DS it asks for.
func (v *validator) cds() []*dns.DS {
	var out []*dns.DS
	for _, rr := range v.ask("example.com.", dns.TypeCDS).Answer {
		if c, ok := rr.(*dns.CDS); ok {
			ds := c.DS
			ds.Hdr.Rrtype = dns.TypeDS
			out = append(out, &ds)
		}
	}
	return out
}

func activeDS(t *testing.T, v *validator) *dns.DS {
	t.Helper()
	for _, rr := range v.ask("example.com.", dns.TypeDNSKEY).Answer {
		if k, ok := rr.(*dns.DNSKEY); ok && k.Flags&dns.SEP != 0 {
			return k.ToDS(dns.SHA256)
		}
	}
	t.Fatal("no key-signing key published")
	return nil
}

const rolloverConfig = `listen: ["127.0.0.1:0"]
dnssec: on
zones:
  example.com:
    ttl: 3600
    ns: [ns1]
    records:
      "@": {mx: "10;mx1"}
      mx1: {a: 192.0.2.1}
      ns1: {a: 192.0.2.53}
`

// A CSK rollover, validated at every step both by a resolver holding the
// old DS and, once the parent has it, by one holding the new: neither
// ever sees a bogus answer while the other's DS may still be cached. Each
// step is checked by the validator here and, where it is installed, by
// unbound, its cache emptied at each step as the waits between them
// would empty it.
func TestCSKRolloverValidatesAtEveryStep(t *testing.T) {
	dir := t.TempDir()
	keeper, err := statedir.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{}
	clock.ns.Store(time.Now().UnixNano())
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	config := strings.Replace(rolloverConfig, "127.0.0.1:0", addr, 1)
	s, _, _ := startServerWith(t, dir, config, Options{Keeper: keeper, now: clock.now})
	v := &validator{t: t, s: s}
	resolvers := map[*dns.DS]*harness.Unbound{}
	resolver := func(ds *dns.DS) *harness.Unbound {
		if resolvers[ds] == nil && hasUnbound() {
			resolvers[ds] = harness.StartUnbound(t, harness.UnboundConfig{TrustAnchors: []string{ds.String()},
				Stubs: map[string]string{"example.com": addr}})
		}
		return resolvers[ds]
	}
	oldDS := activeDS(t, v)
	step := func(name string, anchors map[string]*dns.DS, insecure ...*dns.DS) {
		t.Helper()
		if r := s.Reload(); r.Err != nil {
			t.Fatalf("%s: reload: %v", name, r.Err)
		}
		for what, a := range anchors {
			if !v.secure(a) {
				t.Errorf("%s: bogus under %s", name, what)
			}
			if u := resolver(a); u != nil && !unboundSecure(t, u) {
				t.Errorf("%s: unbound with %s does not validate", name, what)
			}
		}
		for _, a := range insecure {
			if v.secure(a) {
				t.Errorf("%s: still validates under a DS that should be gone", name)
			}
		}
	}
	step("first key", map[string]*dns.DS{"the first DS": oldDS})
	if len(v.cds()) != 0 {
		t.Error("CDS published with no rollover")
	}

	clock.advance(90 * 24 * time.Hour)
	step("new CSK published", map[string]*dns.DS{"the old DS": oldDS})
	clock.advance(2 * time.Hour) // propagation (1h) and the DNSKEY TTL (1h)
	step("new CSK submitted", map[string]*dns.DS{"the old DS": oldDS})
	cds := v.cds()
	if len(cds) != 1 || cds[0].KeyTag == oldDS.KeyTag {
		t.Fatalf("CDS %v, want the new key's alone", cds)
	}
	newDS := cds[0]
	if z := s.Status().Zones[0]; z.DNSSEC == nil || !z.DNSSEC.WaitingForDS || len(z.DNSSEC.Keys) != 2 {
		t.Errorf("/status while the new key waits: %+v", z.DNSSEC)
	}
	clock.advance(24 * time.Hour)
	step("a day on, still waiting for the parent", map[string]*dns.DS{"the old DS": oldDS, "the new DS, early": newDS})

	if err := keeper.MarkDSSeen("example.com.", clock.now()); err != nil {
		t.Fatal(err)
	}
	step("DS seen: the new key signs", map[string]*dns.DS{"the old DS (cached)": oldDS, "the new DS": newDS})
	if len(v.cds()) != 0 {
		t.Error("CDS still published after the DS was seen")
	}
	clock.advance(25*time.Hour - time.Minute)
	step("a minute before the old DS leaves every cache", map[string]*dns.DS{"the old DS (cached)": oldDS, "the new DS": newDS})
	clock.advance(time.Minute)
	step("old key removed", map[string]*dns.DS{"the new DS": newDS}, oldDS)
}

// hasUnbound says whether unbound can check the steps too: it is skipped
// where it is not installed, unless CI requires it.
func hasUnbound() bool {
	if os.Getenv("MXDNS_REQUIRE_UNBOUND") != "" {
		return true
	}
	for _, p := range []string{"/usr/sbin/unbound", "/sbin/unbound"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	_, err := exec.LookPath("unbound")
	return err == nil
}

// unboundSecure reports whether unbound, its cache emptied, answers every
// question with AD set.
func unboundSecure(t *testing.T, u *harness.Unbound) bool {
	t.Helper()
	u.Flush(t, "example.com")
	for _, q := range []struct {
		name  string
		qtype uint16
		rcode int
	}{{"example.com.", dns.TypeMX, dns.RcodeSuccess}, {"mx1.example.com.", dns.TypeA, dns.RcodeSuccess},
		{"nope.example.com.", dns.TypeA, dns.RcodeNameError}, {"mx1.example.com.", dns.TypeTXT, dns.RcodeSuccess}} {
		if r := u.Query(t, q.name, q.qtype); r.Rcode != q.rcode || !r.AuthenticatedData {
			t.Logf("unbound: %s %s: %s AD=%v", q.name, dns.TypeToString[q.qtype], dns.RcodeToString[r.Rcode], r.AuthenticatedData)
			return false
		}
	}
	return true
}

// A ZSK rollover by pre-publication: a resolver holding the DNSKEY set
// from before the new key was published validates until it was used.
func TestZSKRolloverValidatesAtEveryStep(t *testing.T) {
	dir := t.TempDir()
	keeper, err := statedir.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{}
	clock.ns.Store(time.Now().UnixNano())
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	config := strings.Replace(rolloverConfig, "127.0.0.1:0", addr, 1) + "    dnssec: {keys: ksk-zsk, zsk_lifetime: 30d}\n"
	s, _, _ := startServerWith(t, dir, config, Options{Keeper: keeper, now: clock.now})
	v := &validator{t: t, s: s}
	ds := activeDS(t, v)
	var u *harness.Unbound
	if hasUnbound() {
		u = harness.StartUnbound(t, harness.UnboundConfig{TrustAnchors: []string{ds.String()}, Stubs: map[string]string{"example.com": addr}})
	}
	zsks := func() int {
		n := 0
		for _, rr := range v.ask("example.com.", dns.TypeDNSKEY).Answer {
			if k, ok := rr.(*dns.DNSKEY); ok && k.Flags == dns.ZONE {
				n++
			}
		}
		return n
	}
	for _, st := range []struct {
		name    string
		advance time.Duration
		zsks    int
	}{
		{"first keys", 0, 1},
		{"new ZSK published", 30 * 24 * time.Hour, 2},
		{"new ZSK signs", 2 * time.Hour, 2},
		{"old ZSK removed", 2 * time.Hour, 1}, // propagation and the longest TTL
	} {
		clock.advance(st.advance)
		if r := s.Reload(); r.Err != nil {
			t.Fatal(r.Err)
		}
		if !v.secure(ds) {
			t.Errorf("%s: bogus", st.name)
		}
		if u != nil && !unboundSecure(t, u) {
			t.Errorf("%s: unbound does not validate", st.name)
		}
		if n := zsks(); n != st.zsks {
			t.Errorf("%s: %d ZSKs published, want %d", st.name, n, st.zsks)
		}
		if len(v.cds()) != 0 {
			t.Errorf("%s: a ZSK rollover published a CDS", st.name)
		}
	}
}

// fakeParent answers the DS of example.com with what ds holds.
func fakeParent(t *testing.T, ds *atomic.Pointer[dns.DS]) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		if d := ds.Load(); d != nil && req.Question[0].Qtype == dns.TypeDS {
			m.Answer = append(m.Answer, d)
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestParentsAreAskedForTheNewDS(t *testing.T) {
	var parentDS atomic.Pointer[dns.DS]
	parent := fakeParent(t, &parentDS)
	dir := t.TempDir()
	keeper, err := statedir.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{}
	clock.ns.Store(time.Now().UnixNano())
	config := rolloverConfig + "    dnssec: {parents: [\"" + parent + "\"]}\n"
	s, _, _ := startServerWith(t, dir, config, Options{Keeper: keeper, now: clock.now})
	v := &validator{t: t, s: s}
	oldDS := activeDS(t, v)
	parentDS.Store(oldDS)
	for _, d := range []time.Duration{90 * 24 * time.Hour, 2 * time.Hour} {
		clock.advance(d)
		s.Reload()
	}
	cds := v.cds()
	if len(cds) != 1 {
		t.Fatalf("CDS %v, want the new key's", cds)
	}
	s.askParents(s.Snapshot())
	if keeper.DSSeenMarked("example.com.") {
		t.Fatal("the DS was marked seen while the parent still has the old one")
	}
	parentDS.Store(cds[0])
	s.askParents(s.Snapshot())
	if !keeper.DSSeenMarked("example.com.") {
		t.Fatal("the parent's new DS was not seen")
	}
	s.Reload()
	if len(v.cds()) != 0 || !v.secure(cds[0]) || !v.secure(oldDS) {
		t.Error("after the DS was seen the new key should sign, validated under both DS")
	}
}

// Removing dnssec: never leaves a moment a resolver holding the DS finds
// the zone bogus: it stays signed, asks the parent to delete the DS (CDS
// and CDNSKEY delete records, RFC 8078 §4), and goes unsigned only a DS
// TTL and an hour after the parent was seen to do so.
func TestRemovedDNSSECGoesInsecureWithoutABogusWindow(t *testing.T) {
	dir := t.TempDir()
	keeper, err := statedir.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{}
	clock.ns.Store(time.Now().UnixNano())
	signed := rolloverConfig + "    dnssec: on\n"
	unsigned := strings.Replace(rolloverConfig, "dnssec: on\n", "", 1)
	s, path, _ := startServerWith(t, dir, signed, Options{Keeper: keeper, now: clock.now})
	v := &validator{t: t, s: s}
	ds := activeDS(t, v)
	step := func(name string, wantSigned bool) {
		t.Helper()
		r := s.Reload()
		if r.Err != nil {
			t.Fatalf("%s: %v", name, r.Err)
		}
		if got := v.secure(ds); got != wantSigned {
			t.Errorf("%s: validates under the DS: %v, want %v", name, got, wantSigned)
		}
		mx := v.ask("example.com.", dns.TypeMX)
		if hasRRSIG := len(mx.Answer) > 1; hasRRSIG != wantSigned {
			t.Errorf("%s: MX answer signed: %v, want %v:\n%s", name, hasRRSIG, wantSigned, mx)
		}
	}
	writeFile(t, path, unsigned)
	step("dnssec: removed", true)
	cds := v.ask("example.com.", dns.TypeCDS).Answer
	if len(cds) == 0 || cds[0].(*dns.CDS).Algorithm != 0 || cds[0].(*dns.CDS).Digest != "00" {
		t.Fatalf("no CDS delete record: %v", cds)
	}
	clock.advance(30 * 24 * time.Hour)
	step("a month on, the parent has not acted", true)
	if err := keeper.MarkDSGone("example.com.", clock.now()); err != nil {
		t.Fatal(err)
	}
	step("the DS is gone at the parent", true)
	clock.advance(25*time.Hour - time.Minute)
	step("a minute before the DS leaves every cache", true)
	clock.advance(time.Minute)
	step("unsigned", false)
	if dnskeys := v.ask("example.com.", dns.TypeDNSKEY).Answer; len(dnskeys) != 0 {
		t.Errorf("DNSKEY still published: %v", dnskeys)
	}
	// Signing again makes new keys.
	writeFile(t, path, signed)
	if r := s.Reload(); r.Err != nil {
		t.Fatal(r.Err)
	}
	if again := activeDS(t, v); again.KeyTag == ds.KeyTag || !v.secure(again) {
		t.Error("signing again did not make a new key that validates")
	}
}

// Secondaries serve the signatures they transferred: a signed zone's
// serial moves every refresh period, though nothing else changed, so
// that they transfer fresh ones long before theirs expire.
func TestSignedSerialMovesEveryRefresh(t *testing.T) {
	dir := t.TempDir()
	keeper, err := statedir.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{}
	// A minute into a period of the zone's.
	_, next := dnssec.SignatureEpoch("example.com.", time.Now(), dnssec.DefaultPolicy().Refresh)
	clock.ns.Store(next.Add(time.Minute).UnixNano())
	s, _, _ := startServerWith(t, dir, rolloverConfig, Options{Keeper: keeper, now: clock.now})
	v := &validator{t: t, s: s}
	serial := func() uint32 { return v.ask("example.com.", dns.TypeSOA).Answer[0].(*dns.SOA).Serial }
	first := serial()
	clock.advance(time.Hour)
	s.Reload()
	if serial() != first {
		t.Error("the serial moved within a refresh period")
	}
	clock.advance(7 * 24 * time.Hour)
	s.Reload()
	if next := serial(); next == first {
		t.Error("the serial did not move when a refresh period passed")
	}
}
