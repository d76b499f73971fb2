package dnssec

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

// The example of RFC 4034 §6.1, in canonical order.
func TestCanonicalOrder(t *testing.T) {
	want := []string{
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", `\001.z.example.`, "*.z.example.", `\200.z.example.`,
	}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortStableFunc(got, CanonicalCompare)
	if !slices.Equal(got, want) {
		t.Errorf("order:\n got %q\nwant %q", got, want)
	}
	if CanonicalCompare(`a\.b.example.`, "a.b.example.") == 0 {
		t.Error("an escaped dot is part of its label")
	}
	if CanonicalCompare(`\000.example.`, `\001.example.`) >= 0 || CanonicalCompare("a.example.", `a\000.example.`) >= 0 {
		t.Error("octets 0 and 1 sort as octets")
	}
}

// CanonicalCompare agrees with the RFC's order taken literally, on the
// names' wire labels, for names of awkward octets in the presentation
// form miekg/dns gives them (\., \\, \DDD).
func TestCanonicalOrderOfWireLabels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	octets := []byte{0, 1, 2, '.', '\\', '"', '*', '-', 'a', 'B', 'z', 'Z', 0x7f, 200, 255}
	name := func() string {
		wire := []byte{}
		for range 1 + r.IntN(4) {
			label := make([]byte, 1+r.IntN(4))
			for i := range label {
				label[i] = octets[r.IntN(len(octets))]
			}
			wire = append(append(wire, byte(len(label))), label...)
		}
		s, _, err := dns.UnpackDomainName(append(wire, 0), 0)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for range 20000 {
		a, b := name(), name()
		if got, want := CanonicalCompare(a, b), compareWire(t, a, b); got != want {
			t.Fatalf("CanonicalCompare(%q, %q) = %d, want %d", a, b, got, want)
		}
	}
	for _, same := range [][2]string{{`\065.example.`, "a.example."}, {`a\.b.example.`, `A\046B.EXAMPLE.`}, {"example", "example."}, {".", ""}} {
		if CanonicalKey(same[0]) != CanonicalKey(same[1]) {
			t.Errorf("%q and %q are one name", same[0], same[1])
		}
	}
}

// compareWire is RFC 4034 §6.1 on the wire form: labels from the right,
// each as its octets with ASCII letters lower-cased, a missing label
// first.
func compareWire(t *testing.T, a, b string) int {
	la, lb := wireLabels(t, a), wireLabels(t, b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := bytes.Compare(la[i], lb[j]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(la), len(lb))
}

func wireLabels(t *testing.T, name string) [][]byte {
	t.Helper()
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	if err != nil {
		t.Fatalf("%q: %v", name, err)
	}
	var labels [][]byte
	for off := 0; off < n && buf[off] != 0; off += 1 + int(buf[off]) {
		label := bytes.Clone(buf[off+1 : off+1+int(buf[off])])
		for i, c := range label {
			if 'A' <= c && c <= 'Z' {
				label[i] = c + 'a' - 'A'
			}
		}
		labels = append(labels, label)
	}
	return labels
}

func BenchmarkCanonicalKey(b *testing.B) {
	names := []string{"mx1.example.com.", "Www.Example.COM.", "_25._tcp.mail.example.com.", `a\.b.example.com.`}
	b.ReportAllocs()
	for b.Loop() {
		for _, n := range names {
			CanonicalKey(n)
		}
	}
}
