package dnslookup

import (
	"context"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

func TestCached(t *testing.T) {
	f := newFake(t, map[string]reply{
		"www.a.test. A":  {rrs: []string{"www.a.test. CNAME mail.b.test."}},
		"mail.b.test. A": {rrs: []string{"mail.b.test. A 192.0.2.1"}},
		"slow.a.test. A": {err: errTimeout},
	})
	ex := Cached(f.exchange)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, name := range []string{"www.a.test", "WWW.A.TEST.", "mail.b.test", "slow.a.test", "gone.a.test"} {
				Follow(ctx, ex, name, dns.TypeA)
			}
		})
	}
	wg.Wait()
	for _, key := range []string{"www.a.test. A", "mail.b.test. A", "slow.a.test. A", "gone.a.test. A"} {
		if n := f.asked[key]; n != 1 {
			t.Errorf("%s asked %d times, want once", key, n)
		}
	}
	if len(f.asked) != 4 {
		t.Errorf("asked %v", f.asked)
	}

	// Each caller gets its own copy, with its own ID.
	q := Query("mail.b.test.", dns.TypeA)
	r, err := ex(ctx, q)
	if err != nil || r.Id != q.Id {
		t.Fatalf("response %v, %v; want the ID %d", r, err, q.Id)
	}
	r.Answer = nil
	if again, _ := ex(ctx, q); len(again.Answer) != 1 {
		t.Errorf("a caller's change reached the cache: %v", again)
	}
	if _, err := ex(ctx, Query("slow.a.test.", dns.TypeA)); err != errTimeout {
		t.Errorf("the error is not kept: %v", err)
	}
}

// The DO bit is part of the question: DNSSEC records come only with it.
func TestCachedDO(t *testing.T) {
	n := 0
	ex := Cached(func(_ context.Context, q *dns.Msg) (*dns.Msg, error) {
		n++
		m := new(dns.Msg)
		return m.SetReply(q), nil
	})
	q := Query("a.test.", dns.TypeTLSA)
	ex(context.Background(), q)
	q = Query("a.test.", dns.TypeTLSA)
	q.IsEdns0().SetDo()
	ex(context.Background(), q)
	ex(context.Background(), q)
	if n != 2 {
		t.Errorf("asked %d times, want twice (without and with DO)", n)
	}
}
