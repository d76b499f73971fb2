package update

import "time"

// Each key may send rateBurst updates at once, then ratePerSecond: far
// more than an ACME client needs (two updates per name of a certificate
// of at most 100), far less than would keep the disk busy with syncs and
// the secondaries with NOTIFYs if a key leaked.
const (
	rateBurst     = 100
	ratePerSecond = 10
)

// bucket is one key's token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

// allow takes a token of key's bucket, if it has one. Callers hold mu.
func (u *Updater) allow(key string, now time.Time) bool {
	b := u.rates[key]
	if b == nil {
		b = &bucket{tokens: rateBurst, last: now}
		u.rates[key] = b
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(rateBurst, b.tokens+d.Seconds()*ratePerSecond)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
