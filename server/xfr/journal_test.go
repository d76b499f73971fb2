package xfr

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/internal/rrwire"
	"github.com/mxdns/mxdns/zone"
)

const origin = "example.com."

func rr(t testing.TB, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func soaAt(t testing.TB, serial uint32) *dns.SOA {
	return rr(t, fmt.Sprintf("example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. %d 3600 900 1209600 300", serial)).(*dns.SOA)
}

// version is the zone at serial holding the records of lines (besides
// the SOA), for Publish: its key a digest of the lines.
func version(t testing.TB, serial uint32, lines ...string) Version {
	soa := soaAt(t, serial)
	var rrs []dns.RR
	for _, l := range lines {
		rrs = append(rrs, rr(t, l))
	}
	return Version{Origin: origin, SOA: soa, Key: sha256.Sum256([]byte(strings.Join(lines, "\n"))),
		Records: func([]dns.RR) ([]dns.RR, error) { return append([]dns.RR{soa}, rrs...), nil }}
}

// after gives next the cheap difference from prev a server gives it.
func after(t testing.TB, prev, next Version) Version {
	before, _ := prev.Records(nil)
	now, _ := next.Records(nil)
	next.From = zone.SerialRecord{Serial: prev.SOA.Serial, Hash: prev.Key}
	next.Diff = func() ([]dns.RR, []dns.RR) { return rrwire.Diff(before[1:], now[1:]) }
	return next
}

func texts(rrs []dns.RR) []string {
	out := make([]string, len(rrs))
	for i, r := range rrs {
		out[i] = r.String()
	}
	return out
}

func wantChanges(t *testing.T, j *Journal, from, to uint32, del, add []string) {
	t.Helper()
	c, why := j.Changes(origin, from, to)
	if why != "" {
		t.Fatalf("%d to %d: no changes: %s", from, to, why)
	}
	if c.From.Serial != from || c.To.Serial != to {
		t.Errorf("%d to %d: SOAs %d to %d", from, to, c.From.Serial, c.To.Serial)
	}
	norm := func(lines []string) []string {
		out := texts(nil)
		for _, l := range lines {
			out = append(out, rr(t, l).String())
		}
		slices.Sort(out)
		return out
	}
	gotDel, gotAdd := texts(c.Del), texts(c.Add)
	slices.Sort(gotDel)
	slices.Sort(gotAdd)
	if !slices.Equal(gotDel, norm(del)) || !slices.Equal(gotAdd, norm(add)) {
		t.Errorf("%d to %d:\n deleted %q\n added   %q\nwant\n deleted %q\n added   %q", from, to, gotDel, gotAdd, norm(del), norm(add))
	}
}

func wantFull(t *testing.T, j *Journal, from, to uint32, reason string) {
	t.Helper()
	if c, why := j.Changes(origin, from, to); why != reason {
		t.Errorf("%d to %d: %q (%d deleted, %d added), want the whole zone because %q", from, to, why, len(c.Del), len(c.Add), reason)
	}
}

var lots = zone.IXFRJournal{Versions: 100, MaxSize: 64 << 20}

const (
	a1 = "www.example.com. 3600 IN A 192.0.2.1"
	a2 = "www.example.com. 3600 IN A 192.0.2.2"
	a3 = "www.example.com. 3600 IN A 192.0.2.3"
	mx = "example.com. 3600 IN MX 10 mx.example.com."
)

// TestCondense: an RR added then deleted vanishes, and so does one
// deleted then added again; the SOAs are the first version's and the
// last's.
func TestCondense(t *testing.T) {
	j := NewJournal(nil, nil)
	for _, v := range []Version{
		version(t, 1, a1, mx),
		version(t, 2, a2, mx),     // a1 → a2
		version(t, 3, a3, mx),     // a2 → a3: a2 came and went
		version(t, 4, a1, a3),     // a1 back, mx gone
		version(t, 5, a1, a3, mx), // mx back
	} {
		j.Publish([]Version{v}, lots)
	}
	wantChanges(t, j, 1, 2, []string{a1}, []string{a2})
	wantChanges(t, j, 1, 3, []string{a1}, []string{a3})
	wantChanges(t, j, 1, 4, []string{mx}, []string{a3})
	wantChanges(t, j, 1, 5, nil, []string{a3})
	wantChanges(t, j, 2, 5, []string{a2}, []string{a1, a3})
	wantChanges(t, j, 4, 5, nil, []string{mx})
	// Serials the journal never held, or one ahead of the version served.
	wantFull(t, j, 0, 5, fullOlder)
	wantFull(t, j, 7, 5, fullUnknown)
	wantFull(t, j, 1, 6, fullGap)
}

// TestIXFRRecordsSequence is RFC 1995 §4's answer: SOA(new), SOA(old),
// deletions, SOA(new), additions, SOA(new).
func TestIXFRRecordsSequence(t *testing.T) {
	c := Changes{From: soaAt(t, 1), To: soaAt(t, 3), Del: []dns.RR{rr(t, a1)}, Add: []dns.RR{rr(t, a2), rr(t, mx)}}
	got := texts(ixfrRecords(c))
	want := texts([]dns.RR{soaAt(t, 3), soaAt(t, 1), rr(t, a1), soaAt(t, 3), rr(t, a2), rr(t, mx), soaAt(t, 3)})
	if !slices.Equal(got, want) {
		t.Errorf("reply\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestJournalVersionsLimit: past versions, the oldest difference goes,
// and a client that held its serial gets the whole zone.
func TestJournalVersionsLimit(t *testing.T) {
	j := NewJournal(nil, nil)
	lim := zone.IXFRJournal{Versions: 3, MaxSize: 64 << 20}
	for s := uint32(1); s <= 6; s++ {
		j.Publish([]Version{version(t, s, fmt.Sprintf("www.example.com. 3600 IN A 192.0.2.%d", s))}, lim)
	}
	wantFull(t, j, 1, 6, fullOlder)
	wantFull(t, j, 2, 6, fullOlder)
	wantChanges(t, j, 3, 6, []string{"www.example.com. 3600 IN A 192.0.2.3"}, []string{"www.example.com. 3600 IN A 192.0.2.6"})
	wantChanges(t, j, 5, 6, []string{"www.example.com. 3600 IN A 192.0.2.5"}, []string{"www.example.com. 3600 IN A 192.0.2.6"})
	// Versions 0 keeps none.
	j.Publish([]Version{version(t, 7, a1)}, zone.IXFRJournal{Versions: 0, MaxSize: 1})
	wantFull(t, j, 6, 7, fullNoJournal)
}

// TestJournalMaxSize: past max_size, the oldest differences go, and a
// difference bigger than max_size is not kept at all.
func TestJournalMaxSize(t *testing.T) {
	j := NewJournal(nil, nil)
	big := func(serial uint32, n int) Version {
		var lines []string
		for i := range n {
			lines = append(lines, fmt.Sprintf("h%d.example.com. 3600 IN TXT \"%d %s\"", i, serial, strings.Repeat("x", 100)))
		}
		return version(t, serial, lines...)
	}
	// Each version changes every record: a difference of 2n records.
	lim := zone.IXFRJournal{Versions: 100, MaxSize: 8 << 10}
	for s := uint32(1); s <= 5; s++ {
		j.Publish([]Version{big(s, 10)}, lim) // about 2.6 KiB a difference
	}
	wantFull(t, j, 1, 5, fullOlder)
	wantFull(t, j, 2, 5, fullOlder)
	if _, why := j.Changes(origin, 3, 5); why != "" {
		t.Errorf("3 to 5, two differences of some 2.6 KiB in 8 KiB: %s", why)
	}
	j.Publish([]Version{big(6, 80)}, lim) // more than max_size alone
	wantFull(t, j, 5, 6, fullOlder)
}

// TestJournalSurvivesRestart: a journal read back from its store answers
// the serials of before, and a zone changed meanwhile is journaled from
// the last version.
func TestJournalSurvivesRestart(t *testing.T) {
	st := NewMemStore()
	j := NewJournal(st, nil)
	j.Publish([]Version{version(t, 1, a1)}, lots)
	j.Publish([]Version{version(t, 2, a2)}, lots)

	j = NewJournal(st, nil)
	j.Publish([]Version{version(t, 2, a2)}, lots) // as at start: the same
	wantChanges(t, j, 1, 2, []string{a1}, []string{a2})

	j = NewJournal(st, nil)
	j.Publish([]Version{version(t, 3, a3, mx)}, lots) // edited while stopped
	wantChanges(t, j, 1, 3, []string{a1}, []string{a3, mx})
	wantChanges(t, j, 2, 3, []string{a2}, []string{a3, mx})
}

// TestJournalTornAppend: a record cut short by a crash is dropped, and
// the journal goes on from the one before.
func TestJournalTornAppend(t *testing.T) {
	st := NewMemStore()
	j := NewJournal(st, nil)
	j.Publish([]Version{version(t, 1, a1)}, lots)
	j.Publish([]Version{version(t, 2, a2)}, lots)
	before, _ := st.ReadJournal(origin)
	j.Publish([]Version{version(t, 3, a3)}, lots)
	after, _ := st.ReadJournal(origin)
	st.files[origin] = after[:len(before)+(len(after)-len(before))/2]

	j = NewJournal(st, nil)
	j.Publish([]Version{version(t, 3, a3)}, lots)
	wantChanges(t, j, 1, 3, []string{a1}, []string{a3})
	wantChanges(t, j, 2, 3, []string{a2}, []string{a3})
}

// TestJournalDamaged: a damaged file is warned about and every IXFR gets
// the whole zone, never a wrong difference; the journal starts again.
func TestJournalDamaged(t *testing.T) {
	for _, damage := range []struct {
		name string
		do   func([]byte) []byte
	}{
		{"bit flipped", func(b []byte) []byte { b[len(b)-40] ^= 0x10; return b }},
		{"header", func(b []byte) []byte { return append([]byte("garbage\n"), b...) }},
		{"zeroed", func(b []byte) []byte { return make([]byte, len(b)) }},
		{"truncated to the header", func(b []byte) []byte { return b[:len(fileHeader(origin))] }},
	} {
		t.Run(damage.name, func(t *testing.T) {
			st := NewMemStore()
			j := NewJournal(st, nil)
			j.Publish([]Version{version(t, 1, a1)}, lots)
			j.Publish([]Version{version(t, 2, a2)}, lots)
			st.files[origin] = damage.do(bytes.Clone(st.files[origin]))

			var log bytes.Buffer
			j = NewJournal(st, slog.New(slog.NewTextHandler(&log, nil)))
			j.Publish([]Version{version(t, 3, a3)}, lots)
			if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "ixfr journal") {
				t.Errorf("no warning about the damaged journal:\n%s", log.String())
			}
			wantFull(t, j, 1, 3, fullOlder)
			wantFull(t, j, 2, 3, fullOlder)
			j.Publish([]Version{version(t, 4, a1)}, lots)
			wantChanges(t, j, 3, 4, []string{a3}, []string{a1})
		})
	}
}

// TestJournalDamagedAfterLoad: a record that reads back wrong when a
// reply needs it gives the whole zone.
func TestJournalDamagedAfterLoad(t *testing.T) {
	st := NewMemStore()
	var log bytes.Buffer
	j := NewJournal(st, slog.New(slog.NewTextHandler(&log, nil)))
	j.Publish([]Version{version(t, 1, a1)}, lots)
	j.Publish([]Version{version(t, 2, a2)}, lots)
	f := bytes.Clone(st.files[origin])
	f[len(f)-10] ^= 1
	st.files[origin] = f
	wantFull(t, j, 1, 2, fullDamaged)
	if !strings.Contains(log.String(), "level=WARN") {
		t.Errorf("no warning:\n%s", log.String())
	}
	wantFull(t, j, 1, 2, fullNoJournal)
}

// TestJournalSameSerialOtherContent: a zone changed without its serial
// moving (a fixed serial) starts its journal again: no difference is
// given from the serial clients may hold with either content.
func TestJournalSameSerialOtherContent(t *testing.T) {
	j := NewJournal(nil, nil)
	j.Publish([]Version{version(t, 1, a1)}, lots)
	j.Publish([]Version{version(t, 2, a2)}, lots)
	j.Publish([]Version{version(t, 2, a3)}, lots)
	wantFull(t, j, 1, 2, fullOlder)
	j.Publish([]Version{version(t, 3, a1)}, lots)
	wantFull(t, j, 2, 3, fullOlder)
	j.Publish([]Version{version(t, 4, a2)}, lots)
	wantChanges(t, j, 3, 4, []string{a1}, []string{a2})
}

// TestJournalCompacts: a long run of versions rewrites the file now and
// then, and it stays bounded; the journal reads back as it was.
func TestJournalCompacts(t *testing.T) {
	st := NewMemStore()
	j := NewJournal(st, nil)
	lim := zone.IXFRJournal{Versions: 5, MaxSize: 64 << 20}
	var lines []string
	for i := range 100 {
		lines = append(lines, fmt.Sprintf("h%d.example.com. 3600 IN TXT \"%s\"", i, strings.Repeat("y", 200)))
	}
	maxLen := 0
	var prev Version
	for s := uint32(1); s <= 250; s++ {
		v := version(t, s, append(slices.Clone(lines), fmt.Sprintf("www.example.com. 3600 IN A 10.0.%d.%d", s/256, s%256))...)
		if s > 1 {
			v = after(t, prev, v)
		}
		j.Publish([]Version{v}, lim)
		prev = v
		maxLen = max(maxLen, len(st.files[origin]))
	}
	if maxLen > 200<<10 {
		t.Errorf("the file grew to %d octets for a zone of some 23 KiB", maxLen)
	}
	j = NewJournal(st, nil)
	j.Publish([]Version{version(t, 250, append(slices.Clone(lines), "www.example.com. 3600 IN A 10.0.0.250")...)}, lim)
	wantChanges(t, j, 245, 250, []string{"www.example.com. 3600 IN A 10.0.0.245"}, []string{"www.example.com. 3600 IN A 10.0.0.250"})
	wantFull(t, j, 244, 250, fullOlder)
	// A change while stopped is worked out from the file's base and deltas.
	j = NewJournal(st, nil)
	j.Publish([]Version{version(t, 251, append(slices.Clone(lines[1:]), "www.example.com. 3600 IN A 10.0.0.250")...)}, lim)
	wantChanges(t, j, 250, 251, []string{lines[0]}, nil)
}

// TestJournalTransferredBeforePublish: after a restart, a signed zone's
// AXFR asked for before the start journals the zone again gets the
// version journaled at its serial, with the signatures the secondaries
// hold, read from the file.
func TestJournalTransferredBeforePublish(t *testing.T) {
	st := NewMemStore()
	j := NewJournal(st, nil)
	v := version(t, 7, a1, mx)
	v.Signed = true
	j.Publish([]Version{v}, lots)
	want, _ := v.Records(nil)

	j = NewJournal(st, nil)
	got, ok := j.Transferred(origin, 7)
	if !ok || !slices.Equal(texts(got), texts(want)) {
		t.Fatalf("after a restart, before Publish: %v %q, want %q", ok, texts(got), texts(want))
	}
	if _, ok := j.Transferred(origin, 8); ok {
		t.Error("a serial the journal does not hold was given")
	}
}

// TestJournalChangesBeforePublish: after a restart, an IXFR asked for
// before the start journals the zone again gets the changes in its file.
func TestJournalChangesBeforePublish(t *testing.T) {
	st := NewMemStore()
	j := NewJournal(st, nil)
	j.Publish([]Version{version(t, 1, a1)}, lots)
	j.Publish([]Version{version(t, 2, a2)}, lots)

	j = NewJournal(st, nil)
	wantChanges(t, j, 1, 2, []string{a1}, []string{a2})
	wantFull(t, j, 1, 3, fullGap) // a version edited while stopped, not journaled yet
}

// TestJournalForget: a zone no longer served leaves memory, and its file
// answers again once it is back.
func TestJournalForget(t *testing.T) {
	st := NewMemStore()
	j := NewJournal(st, nil)
	for i, line := range []string{a1, a2, a1} {
		v := version(t, uint32(i+1), line)
		v.Signed = true
		j.Publish([]Version{v}, lots)
	}
	j.Forget([]string{origin})
	if len(j.zones) != 0 {
		t.Fatalf("%d zones kept in memory after Forget", len(j.zones))
	}
	wantChanges(t, j, 2, 3, []string{a2}, []string{a1})
}
