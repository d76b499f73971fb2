package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The reload-under-load test: queries over UDP and TCP from several
// goroutines while the zone file is rewritten, valid and broken in turn.
// Every reply must be a correct answer of the old or the new zone; none
// may be lost or malformed. `make soak` runs it longer:
// MXDNS_SOAK_REWRITES sets the number of rewrites (default 200).

// RRL is off: eight clients on one /24 asking two questions is a flood
// by its measure, and rate limiting is tested on its own.
const soakConfig = `listen: ["127.0.0.1:0"]
rrl: off
zone_files: ["zones/*.yaml"]
`

// soakZone is version v of the zone: valid versions alternate the address
// of www between two known values; broken ones hold an invalid address,
// which the reload must reject while the previous version keeps serving.
func soakZone(v int) string {
	addr := "192.0.2." + strconv.Itoa(1+v%2)
	if v%4 == 3 {
		addr = "192.0.2.300" // broken
	}
	return fmt.Sprintf(`zones:
  example.com:
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1"]}
      mx1: {a: 203.0.113.25}
      ns1: {a: 203.0.113.53}
      www: {a: %s}
`, addr)
}

func soakRewrites(t *testing.T) int {
	if s := os.Getenv("MXDNS_SOAK_REWRITES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("MXDNS_SOAK_REWRITES=%q: want a positive number", s)
		}
		return n
	}
	return 200
}

func TestReloadUnderLoad(t *testing.T) {
	rewrites := soakRewrites(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	zoneFile := filepath.Join(dir, "zones", "example.com.yaml")
	writeFile(t, zoneFile, soakZone(0))
	path := filepath.Join(dir, "config.yaml")
	writeFile(t, path, soakConfig)
	// A discarding logger: a hundred failed reloads would flood the test log.
	s, err := New(Options{Logger: slog.New(slog.DiscardHandler), ConfigPath: path})
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, s)

	ctx, stop := context.WithCancel(context.Background())
	var (
		wg                sync.WaitGroup
		answered, retried atomic.Int64
		errs              = make(chan error, 16)
	)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
		stop()
	}
	addr := s.Addrs()[0]
	for i := range 8 {
		network, target := "udp", addr.UDP.String()
		if i%2 == 1 {
			network, target = "tcp", addr.TCP.String()
		}
		wg.Go(func() {
			c := &dns.Client{Net: network, Timeout: 10 * time.Second}
			var conn *dns.Conn
			for n := 0; ctx.Err() == nil; n++ {
				name, qtype := "www.example.com.", dns.TypeA
				if n%3 == 2 {
					name, qtype = "example.com.", dns.TypeMX
				}
				r, err := soakExchange(c, &conn, target, query(name, qtype), &retried)
				if err != nil {
					fail(fmt.Errorf("%s %s: %w", network, name, err))
					return
				}
				if err := soakCheck(r, name); err != nil {
					fail(fmt.Errorf("%s: %w", network, err))
					return
				}
				answered.Add(1)
			}
			if conn != nil {
				conn.Close()
			}
		})
	}

	for v := 1; v <= rewrites && ctx.Err() == nil; v++ {
		writeFile(t, zoneFile, soakZone(v))
		res := s.Reload()
		if broken := v%4 == 3; broken != (res.Err != nil) {
			fail(fmt.Errorf("rewrite %d (broken %v): reload error %v", v, broken, res.Err))
		}
	}
	stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if answered.Load() == 0 {
		t.Fatal("no query answered")
	}
	t.Logf("%d rewrites, %d answers, %d UDP retries", rewrites, answered.Load(), retried.Load())
}

// soakExchange sends m and returns the reply. UDP is retried once: a
// datagram may be lost by design, and a real resolver retries too; a
// second loss fails the test. TCP reuses one connection and never retries.
func soakExchange(c *dns.Client, conn **dns.Conn, target string, m *dns.Msg, retried *atomic.Int64) (*dns.Msg, error) {
	if c.Net == "udp" {
		r, _, err := c.Exchange(m, target)
		if err != nil {
			retried.Add(1)
			m.Id = dns.Id()
			r, _, err = c.Exchange(m, target)
		}
		return r, err
	}
	if *conn == nil {
		cn, err := c.Dial(target)
		if err != nil {
			return nil, err
		}
		*conn = cn
	}
	r, _, err := c.ExchangeWithConn(m, *conn)
	if err != nil {
		return nil, err
	}
	if r.Id != m.Id {
		return nil, fmt.Errorf("reply id %d to query %d", r.Id, m.Id)
	}
	return r, nil
}

// soakCheck accepts exactly the answers of the two valid zone versions.
func soakCheck(r *dns.Msg, name string) error {
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || r.Truncated || len(r.Answer) != 1 {
		return fmt.Errorf("%s: not a full authoritative answer:\n%v", name, r)
	}
	got := rdata(r)[0]
	switch name {
	case "www.example.com.":
		if got != "A 192.0.2.1" && got != "A 192.0.2.2" {
			return fmt.Errorf("%s: answer %q is of no zone version", name, got)
		}
	default:
		if got != "MX 10 mx1.example.com." {
			return fmt.Errorf("%s: answer %q", name, got)
		}
	}
	return nil
}
