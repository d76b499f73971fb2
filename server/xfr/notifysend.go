package xfr

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// work makes q's exchanges one after the other until none is left.
func (n *Notifier) work(target string, q *notifyQueue) {
	for {
		n.mu.Lock()
		if len(q.tasks) == 0 || n.ctx.Err() != nil {
			if q.workers--; q.workers == 0 {
				delete(n.targets, target)
			}
			n.mu.Unlock()
			return
		}
		t := q.tasks[0]
		q.tasks[0] = nil
		q.tasks = q.tasks[1:]
		t.queued = false
		ctx, cancel := context.WithCancel(n.ctx)
		t.cancel = cancel
		n.mu.Unlock()

		err := notifyOnce(ctx, t.job, t.key, n.cfg.Timeout)
		cancel()

		n.mu.Lock()
		o := n.finish(t, err)
		n.mu.Unlock()
		n.report(o, err)
	}
}

// notifyOutcome is what became of one exchange, for report.
type notifyOutcome struct {
	job     notifyJob
	serial  uint32
	attempt int
	result  string // "ok", "retry" or "failed"; "" for nothing to say
}

// finish settles t after an exchange that ended in err: done, or given
// up, or a retry after a backoff. Callers hold mu.
func (n *Notifier) finish(t *notifyTask, err error) notifyOutcome {
	t.cancel = nil
	t.attempt++
	o := notifyOutcome{job: t.job, serial: t.serial, attempt: t.attempt}
	current := n.tasks[t.job] == t
	switch {
	case err == nil:
		o.result = "ok"
	case !current || n.ctx.Err() != nil:
		return o // replaced by a newer serial, or stopping
	case t.attempt == n.cfg.Attempts:
		o.result = "failed"
	default:
		o.result = "retry"
		// Jitter, half to one and a half times wait, spreads the retries
		// of NOTIFYs that failed together (a secondary restarting) apart.
		d := t.wait/2 + rand.N(t.wait+1)
		t.wait *= 2
		t.timer = time.AfterFunc(d, func() {
			n.mu.Lock()
			defer n.mu.Unlock()
			if n.tasks[t.job] == t && n.ctx.Err() == nil {
				t.timer = nil
				n.enqueue(t)
			}
		})
		return o
	}
	if current {
		delete(n.tasks, t.job)
	}
	return o
}

func (n *Notifier) report(o notifyOutcome, err error) {
	if o.result == "" {
		return
	}
	n.cfg.Count(o.result)
	log := n.cfg.Log.With("zone", o.job.zone, "target", o.job.target, "serial", o.serial)
	switch o.result {
	case "ok":
		log.Info("notify acknowledged", "attempt", o.attempt)
	case "failed":
		log.Warn("notify failed, giving up; the secondary will see the change at its next refresh", "attempts", o.attempt, "err", err)
	default:
		log.Debug("notify attempt failed", "attempt", o.attempt, "err", err)
	}
}

// notifyOnce sends one NOTIFY and waits for a NOERROR reply. The answer
// section stays empty (RFC 1996 §3.7 makes the SOA optional): the
// secondary asks for the SOA itself and compares serials.
func notifyOnce(ctx context.Context, job notifyJob, key *zone.TSIGKey, timeout time.Duration) error {
	m := new(dns.Msg)
	m.SetNotify(job.zone)
	m.Authoritative = true
	c := &dns.Client{Net: "udp", Timeout: timeout}
	if key != nil {
		c.TsigSecret = map[string]string{key.Name: key.Secret}
		m.SetTsig(key.Name, key.Algorithm, Fudge, time.Now().Unix())
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	co, err := c.DialContext(ctx, job.target)
	if err != nil {
		return err
	}
	defer co.Close()
	// miekg/dns heeds only the context's deadline: a cancellation (a newer
	// serial, or Shutdown) would still wait out a silent secondary's
	// timeout. Closing the socket ends the wait at once.
	defer context.AfterFunc(ctx, func() { co.Close() })()
	r, _, err := c.ExchangeWithConnContext(ctx, m, co)
	if err != nil {
		return err
	}
	if r.Rcode != dns.RcodeSuccess {
		return &rcodeError{r.Rcode}
	}
	return nil
}

type rcodeError struct{ rcode int }

func (e *rcodeError) Error() string { return "reply " + dns.RcodeToString[e.rcode] }
