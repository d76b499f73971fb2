package update

import (
	"time"

	"github.com/mxdns/mxdns/zone"
)

// maxSleep bounds how long the expiry loop sleeps: a reload that
// shortened updates.expire is followed within it even unpoked.
const maxSleep = time.Minute

// Run removes the records a client added and never deleted once expire
// (updates.expire of the configuration served) has passed since they
// were added, until stop is closed. It is a timer on the records' own
// times, not a reload of anything.
func (u *Updater) Run(stop <-chan struct{}, expire func() time.Duration) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		case <-u.wake:
			t.Stop()
		}
		t.Reset(u.expireDue(expire()))
	}
}

// Poke has the expiry loop look again: the configuration's expire
// changed, or records were added.
func (u *Updater) Poke() { u.poke() }

func (u *Updater) poke() {
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// expireDue removes the records past expire, keeps and serves what is
// left, and returns how long until the next expires.
func (u *Updater) expireDue(expire time.Duration) time.Duration {
	if u.cfg.Store == nil {
		return maxSleep // nothing can have been added
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.cfg.Now()
	next := maxSleep
	changed := false
	for origin, recs := range u.Records() {
		var kept []zone.UpdatedRecord
		for _, r := range recs {
			left := r.Added.Add(expire).Sub(now)
			if left <= 0 {
				continue
			}
			next = min(next, left)
			kept = append(kept, r)
		}
		if len(kept) == len(recs) {
			continue
		}
		if err := u.cfg.Store.SaveUpdates(origin, kept); err != nil {
			// Served as they are until a save succeeds: a record
			// removed from service but not from the disk would come
			// back at a restart.
			u.cfg.Log.Error("updated records expired but not removed: the state directory did not keep the change", "zone", origin, "err", err)
			next = min(next, time.Second)
			continue
		}
		u.cfg.Log.Info("updated records expired", "zone", origin, "removed", len(recs)-len(kept), "left", len(kept), "expire", expire)
		u.set(origin, kept)
		changed = true
	}
	if changed {
		u.cfg.Publish()
	}
	return next
}
