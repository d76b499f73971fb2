package server

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// NOTIFY (RFC 1996): after a reload changes a zone's serial, every notify
// target of the zone is told, in the background, until it answers or the
// attempts run out. A later change of the same zone and target replaces a
// NOTIFY still being retried, so a secondary is never told of stale serials.

// notifyAttempts and notifyBackoff: RFC 1996 §3.6 asks for retries with a
// growing interval; 5 attempts over about a minute cover a secondary's
// restart without flooding one that is gone.
var (
	notifyAttempts = 5
	notifyTimeout  = 2 * time.Second
	notifyBackoff  = 2 * time.Second
)

// notifyInFlight bounds the NOTIFY exchanges, each with its own socket,
// under way at once to one target: at start-up every zone × target is
// due together, tens of thousands with 10,000 zones. The bound is per
// target so that a secondary that drops NOTIFYs, each of whose exchanges
// then lasts notifyTimeout, delays only its own.
const notifyInFlight = 16

type notifier struct {
	srv    *Server
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	tasks   map[notifyJob]*notifyTask // the newest of each job, until it ends
	targets map[string]*notifyQueue   // by target, while it has workers
}

type notifyJob struct{ zone, target string }

// notifyTask is the NOTIFY of one serial through its attempts: queued
// for a worker, in an exchange, or waiting out its backoff on a timer.
// Its fields change under the notifier's mutex only, and its serial and
// key only while it is queued: the worker that took it reads them
// unlocked.
type notifyTask struct {
	job     notifyJob
	serial  uint32
	key     *zone.TSIGKey
	attempt int           // exchanges made
	wait    time.Duration // the backoff before the next retry, before jitter
	queued  bool
	cancel  context.CancelFunc // of the exchange under way, if any
	timer   *time.Timer        // of the backoff, if waiting
}

// notifyQueue is one target's tasks waiting for an exchange. Workers,
// at most notifyInFlight, take them in turn; a task in its backoff holds
// no worker, so a zone the secondary keeps refusing does not slow the
// others, and goroutines stay bounded by targets, not zones.
type notifyQueue struct {
	tasks   []*notifyTask
	workers int
}

func newNotifier(s *Server) *notifier {
	ctx, cancel := context.WithCancel(context.Background())
	return &notifier{srv: s, ctx: ctx, cancel: cancel,
		tasks: make(map[notifyJob]*notifyTask), targets: make(map[string]*notifyQueue)}
}

// changedZones lists the zones of next whose serial differs from prev's,
// new zones included.
func changedZones(prev, next *zone.Snapshot) []zone.ZoneInfo {
	var out []zone.ZoneInfo
	for _, z := range next.Zones() {
		if prev == nil {
			out = append(out, z)
		} else if serial, ok := prev.Serial(z.Origin); !ok || serial != z.Serial {
			out = append(out, z)
		}
	}
	return out
}

// zonesChanged starts a NOTIFY to every target of every changed zone.
//
// Its cost on a reload is changedZones: the zone package lists zones only
// sorted, and a zone's own transfer setting (which may name targets when
// the top-level one names none) only one zone at a time, so neither the
// sort nor the serial probes can be skipped without a new zone API.
func (n *notifier) zonesChanged(prev, next *zone.Snapshot) {
	if n == nil {
		return
	}
	keys := next.Settings().TSIGKeys // Settings copies the whole struct: once, not per zone
	for _, z := range changedZones(prev, next) {
		t, _ := next.Transfer(z.Origin)
		if len(t.Notify) == 0 {
			continue
		}
		var key *zone.TSIGKey
		if name := t.NotifyKey(); name != "" {
			k := keys[name]
			key = &k
		}
		for _, target := range t.Notify {
			n.start(notifyJob{z.Origin, target}, z.Serial, key)
		}
	}
}

func (n *notifier) start(job notifyJob, serial uint32, key *zone.TSIGKey) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ctx.Err() != nil {
		return
	}
	fresh := func(t *notifyTask) {
		t.serial, t.key, t.attempt, t.wait = serial, key, 0, notifyBackoff
	}
	if old := n.tasks[job]; old != nil {
		if old.queued {
			fresh(old) // not sent yet: it keeps its place, with the new serial
			return
		}
		if old.cancel != nil {
			old.cancel()
		}
		if old.timer != nil {
			old.timer.Stop()
		}
	}
	t := &notifyTask{job: job}
	fresh(t)
	n.tasks[job] = t
	n.enqueue(t)
}

// enqueue queues t for its target, starting a worker if it has fewer
// than notifyInFlight. Callers hold mu.
func (n *notifier) enqueue(t *notifyTask) {
	q := n.targets[t.job.target]
	if q == nil {
		q = new(notifyQueue)
		n.targets[t.job.target] = q
	}
	t.queued = true
	q.tasks = append(q.tasks, t)
	if q.workers < notifyInFlight {
		q.workers++
		n.wg.Go(func() { n.work(t.job.target, q) })
	}
}

// work makes q's exchanges one after the other until none is left.
func (n *notifier) work(target string, q *notifyQueue) {
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

		err := notifyOnce(ctx, t.job, t.key)
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
func (n *notifier) finish(t *notifyTask, err error) notifyOutcome {
	t.cancel = nil
	t.attempt++
	o := notifyOutcome{job: t.job, serial: t.serial, attempt: t.attempt}
	current := n.tasks[t.job] == t
	switch {
	case err == nil:
		o.result = "ok"
	case !current || n.ctx.Err() != nil:
		return o // replaced by a newer serial, or stopping
	case t.attempt == notifyAttempts:
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

func (n *notifier) report(o notifyOutcome, err error) {
	if o.result == "" {
		return
	}
	n.srv.metrics.notify(o.result)
	log := n.srv.log.With("zone", o.job.zone, "target", o.job.target, "serial", o.serial)
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
func notifyOnce(ctx context.Context, job notifyJob, key *zone.TSIGKey) error {
	m := new(dns.Msg)
	m.SetNotify(job.zone)
	m.Authoritative = true
	c := &dns.Client{Net: "udp", Timeout: notifyTimeout}
	if key != nil {
		c.TsigSecret = map[string]string{key.Name: key.Secret}
		m.SetTsig(key.Name, key.Algorithm, tsigFudge, time.Now().Unix())
	}
	ctx, cancel := context.WithTimeout(ctx, notifyTimeout)
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

// stop cancels every NOTIFY in flight and waits for them.
func (n *notifier) stop() {
	if n == nil {
		return
	}
	n.mu.Lock()
	n.cancel()
	for _, t := range n.tasks {
		if t.timer != nil {
			t.timer.Stop()
		}
	}
	n.mu.Unlock()
	n.wg.Wait()
}
