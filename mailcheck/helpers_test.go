package mailcheck

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// now is the time every test judges certificates at.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// world is a fake recursive resolver over records in presentation form:
// it follows CNAMEs, answers NODATA at a name that exists (or has names
// below it) and NXDOMAIN elsewhere, SERVFAIL for the names in servfail
// and no answer at all for those in timeout.
type world struct {
	mu       sync.Mutex
	rrs      map[string][]dns.RR
	servfail map[string]bool
	timeout  map[string]bool
	asked    map[string]int // "name TYPE" → how often
}

func newWorld(t *testing.T, lines ...string) *world {
	t.Helper()
	w := &world{rrs: map[string][]dns.RR{}, servfail: map[string]bool{}, timeout: map[string]bool{}, asked: map[string]int{}}
	for _, block := range lines {
		for _, l := range strings.Split(block, "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, ";") {
				continue
			}
			if name, ok := strings.CutPrefix(l, "SERVFAIL "); ok {
				w.servfail[dns.CanonicalName(name)] = true
				continue
			}
			if name, ok := strings.CutPrefix(l, "TIMEOUT "); ok {
				w.timeout[dns.CanonicalName(name)] = true
				continue
			}
			rr, err := dns.NewRR(l)
			if err != nil || rr == nil {
				t.Fatalf("world record %q: %v", l, err)
			}
			name := dns.CanonicalName(rr.Header().Name)
			w.rrs[name] = append(w.rrs[name], rr)
		}
	}
	return w
}

// std is what a domain with nothing wrong publishes: an MX host with both
// addresses, SPF, and DMARC at reject with reports at home.
func std(d string) string {
	return fmt.Sprintf(`%[1]s. MX 10 mx.%[1]s.
mx.%[1]s. A 192.0.2.25
mx.%[1]s. AAAA 2001:db8::25
%[1]s. TXT "v=spf1 mx -all"
_dmarc.%[1]s. TXT "v=DMARC1; p=reject; rua=mailto:dmarc@%[1]s"`, d)
}

// except is std(d) without its lines holding one of the words.
func except(d string, words ...string) string {
	var out []string
	for _, l := range strings.Split(std(d), "\n") {
		keep := true
		for _, w := range words {
			keep = keep && !strings.Contains(l, w)
		}
		if keep {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func (w *world) exchange(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
	qq := q.Question[0]
	name := dns.CanonicalName(qq.Name)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.asked[bare(name)+" "+dns.TypeToString[qq.Qtype]]++
	if w.timeout[name] {
		return nil, &net.OpError{Op: "read", Net: "udp", Err: os.ErrDeadlineExceeded}
	}
	r := new(dns.Msg)
	r.SetReply(q)
	r.RecursionAvailable = true
	if w.servfail[name] {
		r.Rcode = dns.RcodeServerFailure
		return r, nil
	}
	for range 9 {
		var cname *dns.CNAME
		for _, rr := range w.records(name) {
			if c, ok := rr.(*dns.CNAME); ok && qq.Qtype != dns.TypeCNAME {
				cname = c
			}
		}
		if cname == nil {
			break
		}
		r.Answer = append(r.Answer, dns.Copy(cname))
		name = dns.CanonicalName(cname.Target)
	}
	for _, rr := range w.records(name) {
		if rr.Header().Rrtype == qq.Qtype {
			rr = dns.Copy(rr)
			rr.Header().Name = name
			r.Answer = append(r.Answer, rr)
		}
	}
	if len(r.Answer) == 0 && !w.exists(name) && w.wildcard(name) == nil {
		r.Rcode = dns.RcodeNameError
	}
	return r, nil
}

// records are name's, or those of the wildcard at its closest
// encloser (RFC 4592).
func (w *world) records(name string) []dns.RR {
	if w.exists(name) {
		return w.rrs[name]
	}
	return w.wildcard(name)
}

func (w *world) wildcard(name string) []dns.RR {
	for off, end := dns.NextLabel(name, 0); !end; off, end = dns.NextLabel(name, off) {
		if parent := name[off:]; w.exists(parent) {
			return w.rrs["*."+parent]
		}
	}
	return nil
}

func (w *world) exists(name string) bool {
	if len(w.rrs[name]) > 0 {
		return true
	}
	for n := range w.rrs {
		if strings.HasSuffix(n, "."+name) {
			return true
		}
	}
	return false
}

// report is the findings of a run as the golden files hold them: each
// domain's under its name, in the order found, with the check's name.
func report(domains []Domain, fs []Finding) string {
	var b strings.Builder
	for _, d := range domains {
		fmt.Fprintf(&b, "== %s\n", d.Name)
		for _, f := range fs {
			if f.Domain == dns.CanonicalName(d.Name) {
				fmt.Fprintf(&b, "[%s %s %s] %s\n", f.Check, bare(f.Name), dns.TypeToString[f.Type], f)
			}
		}
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./mailcheck -update)", err)
	}
	if got != string(want) {
		t.Errorf("findings differ from %s:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// domains makes Domains of names.
func domains(names ...string) []Domain {
	out := make([]Domain, len(names))
	for i, n := range names {
		out[i] = Domain{Name: n}
	}
	return out
}

// memPolicies is a PolicyStore in memory.
type memPolicies map[string][2]string

func (m memPolicies) Seen(domain string) (string, string, bool, error) {
	p, ok := m[domain]
	return p[0], p[1], ok, nil
}

func (m memPolicies) Remember(domain, id, digest string) error {
	m[domain] = [2]string{id, digest}
	return nil
}

// replace puts records in place of those of the same name and type.
func (w *world) replace(t *testing.T, lines ...string) {
	t.Helper()
	add := newWorld(t, lines...)
	for name, rrs := range add.rrs {
		for _, rr := range rrs {
			var keep []dns.RR
			for _, old := range w.rrs[name] {
				if old.Header().Rrtype != rr.Header().Rrtype {
					keep = append(keep, old)
				}
			}
			w.rrs[name] = keep
		}
	}
	for name, rrs := range add.rrs {
		w.rrs[name] = append(w.rrs[name], rrs...)
	}
}
