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
// under way at once: at start-up every zone × target is due together,
// tens of thousands with 10,000 zones.
const notifyInFlight = 16

type notifier struct {
	srv    *Server
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	slots  chan struct{} // one token per NOTIFY exchange under way

	mu      sync.Mutex
	running map[notifyJob]context.CancelFunc
}

type notifyJob struct{ zone, target string }

func newNotifier(s *Server) *notifier {
	ctx, cancel := context.WithCancel(context.Background())
	return &notifier{srv: s, ctx: ctx, cancel: cancel, slots: make(chan struct{}, notifyInFlight),
		running: make(map[notifyJob]context.CancelFunc)}
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
func (n *notifier) zonesChanged(prev, next *zone.Snapshot) {
	if n == nil {
		return
	}
	for _, z := range changedZones(prev, next) {
		t, _ := next.Transfer(z.Origin)
		var key *zone.TSIGKey
		if name := t.NotifyKey(); name != "" {
			k := next.Settings().TSIGKeys[name]
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
	if cancel, ok := n.running[job]; ok {
		cancel()
	}
	ctx, cancel := context.WithCancel(n.ctx)
	n.running[job] = cancel
	n.wg.Go(func() {
		defer func() {
			n.mu.Lock()
			// Only remove our own entry, not a successor's.
			if ctx.Err() == nil {
				delete(n.running, job)
			}
			n.mu.Unlock()
			cancel()
		}()
		n.send(ctx, job, serial, key)
	})
}

func (n *notifier) send(ctx context.Context, job notifyJob, serial uint32, key *zone.TSIGKey) {
	log := n.srv.log.With("zone", job.zone, "target", job.target, "serial", serial)
	wait := notifyBackoff
	for attempt := 1; ; attempt++ {
		// The slot is held for the exchange only: a target that is gone
		// must not keep others waiting through its backoff.
		select {
		case n.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		err := notifyOnce(ctx, job, key)
		<-n.slots
		if err == nil {
			n.srv.metrics.notify("ok")
			log.Info("notify acknowledged", "attempt", attempt)
			return
		}
		if ctx.Err() != nil {
			return
		}
		if attempt == notifyAttempts {
			n.srv.metrics.notify("failed")
			log.Warn("notify failed, giving up; the secondary will see the change at its next refresh", "attempts", attempt, "err", err)
			return
		}
		n.srv.metrics.notify("retry")
		log.Debug("notify attempt failed", "attempt", attempt, "err", err)
		// Jitter, half to one and a half times wait, spreads the retries of
		// NOTIFYs that failed together (a secondary restarting) apart.
		select {
		case <-time.After(wait/2 + rand.N(wait+1)):
		case <-ctx.Done():
			return
		}
		wait *= 2
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
	n.mu.Unlock()
	n.wg.Wait()
}
