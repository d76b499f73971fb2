package server

// These tests run the real server on the real zone model; they need the
// zone package's implementation, not the contract stubs.

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/mxdns/mxdns/internal/dnstest"
)

const testConfig = dnstest.Config

// writeFile replaces path the way editors do: write a temporary file in the
// same directory, then rename it over the original.
func writeFile(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// startServer writes config to a temporary directory and serves it; the
// returned channel receives every reload result.
func startServer(t *testing.T, config string) (*Server, string, <-chan ReloadResult) {
	t.Helper()
	return startServerIn(t, t.TempDir(), config)
}

// startServerIn is startServer with the configuration written in dir.
func startServerIn(t *testing.T, dir, config string) (*Server, string, <-chan ReloadResult) {
	t.Helper()
	return startServerWith(t, dir, config, Options{})
}

// startServerWith is startServerIn with more options.
func startServerWith(t *testing.T, dir, config string, opts Options) (*Server, string, <-chan ReloadResult) {
	t.Helper()
	path := filepath.Join(dir, "config.yaml")
	writeFile(t, path, config)
	reloads := make(chan ReloadResult, 16)
	opts.Logger, opts.ConfigPath = testLogger(t), path
	opts.OnReload = func(r ReloadResult) { reloads <- r }
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, s)
	return s, path, reloads
}

// stop shuts s down now (stopAtCleanup's second call does nothing).
func stop(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// stopAtCleanup shuts s down when the test ends, failing it if the
// shutdown does not finish in time.
func stopAtCleanup(t testing.TB, s *Server) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
}

func exchange(t *testing.T, s *Server, network, name string, qtype uint16) *dns.Msg {
	t.Helper()
	a := s.Addrs()[0]
	addr := a.UDP.String()
	if network == "tcp" {
		addr = a.TCP.String()
	}
	c := &dns.Client{Net: network, Timeout: 10 * time.Second}
	r, _, err := c.Exchange(query(name, qtype), addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	return r
}

// rdata lists the answer's records without their owner and TTL, sorted.
func rdata(r *dns.Msg) []string {
	var out []string
	for _, rr := range r.Answer {
		f := strings.Fields(rr.String())
		out = append(out, strings.Join(f[3:], " "))
	}
	sort.Strings(out)
	return out
}

func TestServeUDPAndTCP(t *testing.T) {
	s, _, _ := startServer(t, testConfig)
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			r := exchange(t, s, network, "Example.COM.", dns.TypeMX)
			if r.Rcode != dns.RcodeSuccess || !r.Authoritative || r.RecursionAvailable {
				t.Errorf("rcode %s AA %v RA %v", dns.RcodeToString[r.Rcode], r.Authoritative, r.RecursionAvailable)
			}
			if r.Question[0].Name != "Example.COM." {
				t.Errorf("question %q, case not preserved", r.Question[0].Name)
			}
			// Names are compared without regard to case (RFC 4343): names
			// in the reply are compressed against the question, so they
			// may carry the letters the client asked with.
			want := []string{"mx 10 mx1.example.com.", "mx 20 mx2.example.com."}
			if got := rdata(r); strings.ToLower(strings.Join(got, "|")) != strings.Join(want, "|") {
				t.Errorf("MX %q, want %q", got, want)
			}

			r = exchange(t, s, network, "_submission._tcp.example.com.", dns.TypeSRV)
			if got := rdata(r); len(got) != 1 || got[0] != "SRV 0 1 587 mx1.example.com." {
				t.Errorf("SRV %q", got)
			}

			r = exchange(t, s, network, "nope.example.com.", dns.TypeA)
			if r.Rcode != dns.RcodeNameError || !r.Authoritative {
				t.Errorf("nope: rcode %s AA %v, want authoritative NXDOMAIN", dns.RcodeToString[r.Rcode], r.Authoritative)
			}

			r = exchange(t, s, network, "example.net.", dns.TypeA)
			if r.Rcode != dns.RcodeRefused || r.Authoritative {
				t.Errorf("out of zone: rcode %s AA %v, want REFUSED without AA", dns.RcodeToString[r.Rcode], r.Authoritative)
			}
		})
	}
}

func TestReload(t *testing.T) {
	s, path, reloads := startServer(t, testConfig)
	r := exchange(t, s, "udp", "mx1.example.com.", dns.TypeA)
	if got := rdata(r); len(got) != 1 || got[0] != "A 203.0.113.25" {
		t.Fatalf("before: %q", got)
	}

	writeFile(t, path, strings.Replace(testConfig, "mx1: {a: 203.0.113.25}", "mx1: {a: 203.0.113.26}", 1))
	res := s.Reload()
	if res.Err != nil {
		t.Fatalf("reload: %v", res.Err)
	}
	<-reloads
	r = exchange(t, s, "udp", "mx1.example.com.", dns.TypeA)
	if got := rdata(r); len(got) != 1 || got[0] != "A 203.0.113.26" {
		t.Fatalf("after reload: %q", got)
	}

	writeFile(t, path, testConfig+"      broken: {a: not-an-address}\n")
	res = s.Reload()
	<-reloads
	checkFailedReload(t, s, res, path, "203.0.113.26")
	if st := s.ReloadStatus(); st.Count != 1 || st.Failures != 1 || st.LastError == nil || st.LastSuccess.After(st.LastTime) {
		t.Errorf("status %+v", st)
	}
}

func TestWatchReloads(t *testing.T) {
	s, path, reloads := startServer(t, testConfig)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := s.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	// A good edit is served (waitReload's deadline is for a stuck
	// watcher, not a measure of speed: make scale measures that).
	writeFile(t, path, strings.Replace(testConfig, "mx1: {a: 203.0.113.25}", "mx1: {a: 203.0.113.27}", 1))
	waitReload(t, reloads, func(res ReloadResult) bool {
		if res.Err != nil {
			t.Fatalf("reload: %v", res.Err)
		}
		got := rdata(exchange(t, s, "udp", "mx1.example.com.", dns.TypeA))
		return len(got) == 1 && got[0] == "A 203.0.113.27"
	})

	// A broken edit keeps the previous answers and says where it broke.
	writeFile(t, path, testConfig+"      broken: {a: not-an-address}\n")
	var failed ReloadResult
	waitReload(t, reloads, func(res ReloadResult) bool { failed = res; return res.Err != nil })
	checkFailedReload(t, s, failed, path, "203.0.113.27")
}

// waitReload feeds reload results to done until it returns true, failing
// the test after a deadline.
func waitReload(t *testing.T, reloads <-chan ReloadResult, done func(ReloadResult) bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case res := <-reloads:
			if done(res) {
				return
			}
		case <-deadline:
			t.Fatal("no matching reload within 20s")
		}
	}
}

func checkFailedReload(t *testing.T, s *Server, res ReloadResult, path, stillA string) {
	t.Helper()
	if res.Err == nil {
		t.Fatal("broken config reloaded without error")
	}
	pos := regexp.MustCompile(regexp.QuoteMeta(path) + `:\d+:\d+: `)
	if !pos.MatchString(res.Err.Error()) {
		t.Errorf("error %q does not say file:line:col", res.Err)
	}
	if len(res.Diags.Errors()) == 0 {
		t.Error("no error diagnostics")
	}
	if got := rdata(exchange(t, s, "udp", "mx1.example.com.", dns.TypeA)); len(got) != 1 || got[0] != "A "+stillA {
		t.Errorf("after failed reload: %q, want previous answer %s", got, stillA)
	}
	if st := s.ReloadStatus(); st.Failures == 0 || st.LastError == nil {
		t.Errorf("status %+v does not record the failure", st)
	}
}
