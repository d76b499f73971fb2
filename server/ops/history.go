package ops

import (
	"sync"
	"time"
)

// History is what the status page remembers that /status does not: each
// link's state minute by minute over the last hour and its last probes,
// the last reloads, and the query rates of the last minutes. All of it is
// bounded, and kept under a lock of its own that is held only to copy a
// few values: a link change, a probe or a reload never waits on a page
// being rendered, and queries never touch it (the rates are sampled from
// the lock-free counts, queryrate.go). A nil *History keeps nothing.
type History struct {
	mu      sync.Mutex
	links   map[string]*linkHistory
	reloads [reloadRing]ReloadEvent
	reloadN int // reloads recorded, ever
	rates   rateRing
	counts  *kindCounts // nil: no rates
}

const (
	stripMinutes = 60 // the strip of a link's state
	checkRing    = 6  // probes kept per link
	reloadRing   = 20 // reloads kept
)

// Link states in the strip, worst last: a minute shows the worst state
// it saw.
const (
	stateNone   uint8 = iota // not known then: before the server started
	stateUp                  // up by its checks
	stateForced              // held up or down by state: in the configuration
	stateDown                // down by its checks
)

type linkHistory struct {
	since   time.Time // first recorded: minutes before show nothing
	state   uint8     // now
	minutes [stripMinutes]minuteStates
	checks  [checkRing]CheckEvent
	checkN  int
}

// minuteStates is the states of a link during one minute: the one it
// started with, and the worst it was in.
type minuteStates struct {
	minute int64 // unix minutes; a stale bucket holds an older one
	start  uint8
	worst  uint8
}

// CheckEvent is one probe of a link's check.
type CheckEvent struct {
	Time    time.Time
	Check   string // as /status describes it, secrets redacted
	OK      bool
	Result  string
	Latency time.Duration
}

// ReloadEvent is one reload attempt.
type ReloadEvent struct {
	Time     time.Time
	Duration time.Duration
	// Outcome is "ok", "served with files in error" (each served as it
	// last was good) or "failed" (the previous configuration kept).
	Outcome string
	Error   string // the first error, "" when ok
}

// NewHistory keeps a history, with the query rates of m (nil: none).
func NewHistory(m *Metrics) *History {
	h := &History{links: map[string]*linkHistory{}}
	if m != nil {
		h.counts = m.kinds
	}
	return h
}

// LinkState records the state of link at t: up, down, and whether a
// manual state forces it. Recording the state it already has is cheap.
func (h *History) LinkState(link string, up, forced bool, t time.Time) {
	if h == nil {
		return
	}
	state := stateDown
	switch {
	case forced:
		state = stateForced
	case up:
		state = stateUp
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.links[link]
	if l == nil {
		l = &linkHistory{since: t}
		h.links[link] = l
	}
	if l.state == state {
		return
	}
	m := &l.minutes[minuteOf(t)%stripMinutes]
	if m.minute != minuteOf(t) {
		*m = minuteStates{minute: minuteOf(t), start: l.state, worst: l.state}
	}
	m.worst = max(m.worst, state)
	l.state = state
}

// LinkCheck records one probe of link.
func (h *History) LinkCheck(link string, e CheckEvent) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.links[link]
	if l == nil {
		l = &linkHistory{since: e.Time}
		h.links[link] = l
	}
	l.checks[l.checkN%checkRing] = e
	l.checkN++
}

// ForgetLink drops a link no longer configured.
func (h *History) ForgetLink(link string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.links, link)
}

// Reload records one reload attempt.
func (h *History) Reload(e ReloadEvent) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reloads[h.reloadN%reloadRing] = e
	h.reloadN++
}

func minuteOf(t time.Time) int64 { return t.Unix() / 60 }

// strip is link's state in each of the stripMinutes minutes up to now,
// oldest first, and its last probes, newest first.
func (h *History) strip(link string, now time.Time) (states [stripMinutes]uint8, checks []CheckEvent) {
	if h == nil {
		return states, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.links[link]
	if l == nil {
		return states, nil
	}
	// Backwards from now: a minute with no change holds the state the
	// next one started with.
	carried, first, last := l.state, minuteOf(l.since), minuteOf(now)
	for i := range stripMinutes {
		m0 := last - int64(i)
		if m0 < first {
			break
		}
		s := carried
		if m := l.minutes[m0%stripMinutes]; m.minute == m0 {
			s, carried = m.worst, m.start
		}
		states[stripMinutes-1-i] = s
	}
	for i := range min(l.checkN, checkRing) {
		checks = append(checks, l.checks[(l.checkN-1-i)%checkRing])
	}
	return states, checks
}

// lastReloads is the reloads kept, newest first.
func (h *History) lastReloads() []ReloadEvent {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]ReloadEvent, 0, min(h.reloadN, reloadRing))
	for i := range min(h.reloadN, reloadRing) {
		out = append(out, h.reloads[(h.reloadN-1-i)%reloadRing])
	}
	return out
}
