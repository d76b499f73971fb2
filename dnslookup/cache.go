package dnslookup

import (
	"context"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Cached returns ex with a cache of its answers and errors, for one run:
// every part of a run that asks a question gets the first answer, and the
// network is asked once. It is safe for concurrent use.
func Cached(ex Exchange) Exchange {
	type key struct {
		name  string
		qtype uint16
		do    bool
	}
	type entry struct {
		once sync.Once
		resp *dns.Msg
		err  error
	}
	var mu sync.Mutex
	cache := map[key]*entry{}
	return func(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
		if len(q.Question) != 1 {
			return ex(ctx, q)
		}
		qq := q.Question[0]
		k := key{strings.ToLower(dns.Fqdn(qq.Name)), qq.Qtype, q.IsEdns0() != nil && q.IsEdns0().Do()}
		mu.Lock()
		e := cache[k]
		if e == nil {
			e = &entry{}
			cache[k] = e
		}
		mu.Unlock()
		e.once.Do(func() { e.resp, e.err = ex(ctx, q) })
		if e.resp == nil {
			return nil, e.err
		}
		r := e.resp.Copy()
		r.Id = q.Id
		return r, e.err
	}
}
