// Package dnstest holds what the server's test packages share: the small
// configuration most of them serve, a reply comparison, and a log buffer
// safe for several goroutines. Only tests import it.
package dnstest

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Config is a one-zone configuration on a port the system picks.
const Config = `listen: ["127.0.0.1:0"]
zones:
  example.com:
    ttl: 3600
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1", "20;mx2"], a: 203.0.113.80}
      mx1: {a: 203.0.113.25}
      mx2: {a: 198.51.100.25}
      ns1: {a: 203.0.113.53}
      _submission._tcp: {srv: ["0 1 587 mx1"]}
`

// SameReply fails unless got has want's rcode, AA and TC, and the same
// records in each section (OPT aside), TTLs included, in any order.
func SameReply(t *testing.T, label string, got, want *dns.Msg) {
	t.Helper()
	if got.Rcode != want.Rcode || got.Authoritative != want.Authoritative || got.Truncated != want.Truncated ||
		!sameRecords(got.Answer, want.Answer) || !sameRecords(got.Ns, want.Ns) || !sameRecords(got.Extra, want.Extra) {
		t.Errorf("%s: got\n%v\nwant\n%v", label, got, want)
	}
}

func sameRecords(a, b []dns.RR) bool {
	return slices.Equal(recordStrings(a), recordStrings(b))
}

func recordStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, strings.ToLower(rr.String()))
		}
	}
	slices.Sort(out)
	return out
}

// LogBuffer collects log output from several goroutines.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *LogBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *LogBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
