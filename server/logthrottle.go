package server

import (
	"sync"
	"time"
)

// logThrottle lets at most one log line a second through for each kind
// of event a client can provoke at will (a refused transfer, a bad
// TSIG): a spoofed flood of them must not become a flood of log. The
// line that gets through says how many were suppressed since the last.
// The kinds are a few constant strings, so the map stays small. The zero
// value is ready to use.
type logThrottle struct {
	mu    sync.Mutex
	kinds map[string]*throttled
	now   func() time.Time // tests drive the clock; nil is time.Now
}

type throttled struct {
	last       time.Time
	suppressed int
}

// logEvery is how often each kind of throttled line may be logged.
const logEvery = time.Second

// allow reports whether a line of kind may be logged now, and if so how
// many lines of that kind it stands for that were not.
func (l *logThrottle) allow(kind string) (suppressed int, ok bool) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.now != nil {
		now = l.now()
	}
	if l.kinds == nil {
		l.kinds = make(map[string]*throttled)
	}
	k := l.kinds[kind]
	if k == nil {
		l.kinds[kind] = &throttled{last: now}
		return 0, true
	}
	if now.Sub(k.last) < logEvery {
		k.suppressed++
		return 0, false
	}
	suppressed, k.suppressed, k.last = k.suppressed, 0, now
	return suppressed, true
}
