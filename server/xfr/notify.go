package xfr

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/mxdns/mxdns/zone"
)

// NOTIFY (RFC 1996): after a reload changes a zone's serial, every notify
// target of the zone is told, in the background, until it answers or the
// attempts run out. A later change of the same zone and target replaces a
// NOTIFY still being retried, so a secondary is never told of stale serials.

// NotifyConfig is what a Notifier is given.
type NotifyConfig struct {
	Log *slog.Logger
	// Count counts the outcome of a NOTIFY: "ok", "retry" or "failed".
	Count func(result string)
	// Attempts, Timeout (of one exchange) and Backoff (before the first
	// retry, doubled after each): RFC 1996 §3.6 asks for retries with a
	// growing interval; 5 attempts over about a minute, 2 s each, cover a
	// secondary's restart without flooding one that is gone.
	Attempts int
	Timeout  time.Duration
	Backoff  time.Duration
}

// NotifyInFlight bounds the NOTIFY exchanges, each with its own socket,
// under way at once to one target: at start-up every zone × target is
// due together, tens of thousands with 10,000 zones. The bound is per
// target so that a secondary that drops NOTIFYs, each of whose exchanges
// then lasts the Timeout, delays only its own.
const NotifyInFlight = 16

// Notifier sends the NOTIFYs of changed zones in the background.
type Notifier struct {
	cfg    NotifyConfig
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
// Its fields change under the Notifier's mutex only, and its serial and
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
// at most NotifyInFlight, take them in turn; a task in its backoff holds
// no worker, so a zone the secondary keeps refusing does not slow the
// others, and goroutines stay bounded by targets, not zones.
type notifyQueue struct {
	tasks   []*notifyTask
	workers int
}

// NewNotifier returns a Notifier with nothing to send.
func NewNotifier(cfg NotifyConfig) *Notifier {
	ctx, cancel := context.WithCancel(context.Background())
	return &Notifier{cfg: cfg, ctx: ctx, cancel: cancel,
		tasks: make(map[notifyJob]*notifyTask), targets: make(map[string]*notifyQueue)}
}

// ZonesChanged starts a NOTIFY to every target of every changed zone.
func (n *Notifier) ZonesChanged(prev, next *zone.Snapshot) {
	if n == nil {
		return
	}
	keys := next.Settings().TSIGKeys // Settings copies the whole struct: once, not per zone
	for _, z := range next.Changed(prev) {
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

func (n *Notifier) start(job notifyJob, serial uint32, key *zone.TSIGKey) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ctx.Err() != nil {
		return
	}
	fresh := func(t *notifyTask) {
		t.serial, t.key, t.attempt, t.wait = serial, key, 0, n.cfg.Backoff
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
// than NotifyInFlight. Callers hold mu.
func (n *Notifier) enqueue(t *notifyTask) {
	q := n.targets[t.job.target]
	if q == nil {
		q = new(notifyQueue)
		n.targets[t.job.target] = q
	}
	t.queued = true
	q.tasks = append(q.tasks, t)
	if q.workers < NotifyInFlight {
		q.workers++
		n.wg.Go(func() { n.work(t.job.target, q) })
	}
}

// Stop cancels every NOTIFY in flight and waits for them.
func (n *Notifier) Stop() {
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
