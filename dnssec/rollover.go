package dnssec

import (
	"time"
)

// Timing is what the waits of a rollover are made of (RFC 7583 §3).
type Timing struct {
	// Propagation is how long a change takes to reach every server of
	// the zone, secondaries included (Dprp).
	Propagation time.Duration
	// DNSKEYTTL is the TTL of the DNSKEY set, MaxTTL the longest TTL of
	// any signed set of the zone, and DSTTL the parent's DS TTL.
	DNSKEYTTL, MaxTTL, DSTTL time.Duration
}

// Defaults of the Timing parts the zone does not give: an hour for a
// change to reach every secondary (Knot's propagation-delay), and a day
// for the parent's DS TTL, the common value of TLDs.
const (
	DefaultPropagation = time.Hour
	DefaultDSTTL       = 24 * time.Hour
)

// Advance moves a zone's keys through their lives as far as now allows,
// under p: the first keys are made and used at once; keys of another
// algorithm or role than p asks leave at once; a CSK or ZSK older than
// ZSKLifetime, or a KSK older than KSKLifetime, is rolled over.
//
// A ZSK rolls by pre-publication (RFC 7583 §3.2.1): the new key is
// published, used once the DNSKEY set holding it has reached every cache
// (Propagation + DNSKEYTTL), and the old one removed when its signatures
// have expired from caches (Propagation + MaxTTL). A KSK or CSK rolls by
// double-KSK (§3.3.1): the new key is published and signs the DNSKEY set
// beside the old; once every cache has it, its CDS and CDNSKEY are
// published (RFC 7344) and it waits for the parent's DS (MarkDSSeen). Only
// then is it used, and the old key removed when no cache can hold the
// old DS (Propagation + DSTTL) nor, for a CSK, its signatures.
//
// It returns keys with any new ones appended, whether any changed, and
// when it must run again (zero: no event is scheduled; a key waiting for
// its DS waits for MarkDSSeen).
//
// The keys given are never written: keys served by a snapshot are read
// while Advance runs. Those it returns are copies.
func Advance(origin string, keys []*Key, p Policy, t Timing, now time.Time) ([]*Key, bool, time.Time, error) {
	a := advance{p: p, t: t, now: now}
	for _, k := range keys {
		c := *k
		a.keys = append(a.keys, &c)
	}
	for _, k := range a.keys {
		if k.published() && (k.DNSKEY.Algorithm != p.Algorithm || !a.wanted(k.Role)) {
			// No algorithm rollover: a change of algorithm or key
			// scheme takes effect at once (docs/dnssec.md says so).
			a.retire(k)
			k.Removed = now
		}
	}
	for _, role := range a.roles() {
		if err := a.roll(origin, role); err != nil {
			return nil, false, time.Time{}, err
		}
	}
	a.removeRetired()
	return a.keys, a.changed, a.next, nil
}

type advance struct {
	keys    []*Key
	p       Policy
	t       Timing
	now     time.Time
	changed bool
	next    time.Time
}

func (a *advance) roles() []Role {
	if a.p.Split {
		return []Role{KSK, ZSK}
	}
	return []Role{CSK}
}

func (a *advance) wanted(r Role) bool {
	for _, x := range a.roles() {
		if x == r {
			return true
		}
	}
	return false
}

// at notes a time Advance must run again.
func (a *advance) at(t time.Time) {
	if a.next.IsZero() || t.Before(a.next) {
		a.next = t
	}
}

// due reports whether t has come, noting it as the next event if not.
func (a *advance) due(t time.Time) bool {
	if a.now.Before(t) {
		a.at(t)
		return false
	}
	return true
}

func (a *advance) retire(k *Key) {
	if k.Retired.IsZero() {
		k.Retired, a.changed = a.now, true
	}
}

func (a *advance) generate(origin string, role Role) (*Key, error) {
	k, err := GenerateKey(origin, a.p.Algorithm, role, a.now)
	if err != nil {
		return nil, err
	}
	k.Published = a.now
	a.keys = append(a.keys, k)
	a.changed = true
	return k, nil
}

// roll keeps one key of role in use and rolls it when its time comes.
func (a *advance) roll(origin string, role Role) error {
	cur, next := a.current(role)
	if cur == nil && next == nil {
		var err error
		if cur, err = a.generate(origin, role); err != nil {
			return err
		}
		cur.Active = a.now // the zone's first key: nothing to roll from
	}
	life := a.p.ZSKLifetime
	if role == KSK {
		life = a.p.KSKLifetime
	}
	if next == nil && cur != nil && life > 0 && a.due(cur.Active.Add(life)) {
		var err error
		if next, err = a.generate(origin, role); err != nil {
			return err
		}
	}
	if next == nil || !a.due(next.Published.Add(a.t.Propagation+a.t.DNSKEYTTL)) {
		return nil
	}
	if role != ZSK {
		if next.Submitted.IsZero() {
			next.Submitted, a.changed = a.now, true
		}
		if next.DSSeen.IsZero() {
			return nil // MarkDSSeen moves it on
		}
	}
	next.Active, a.changed = a.now, true
	if cur != nil {
		a.retire(cur)
	}
	return nil
}

// current finds the key of role in use and its published successor.
func (a *advance) current(role Role) (cur, next *Key) {
	for _, k := range a.keys {
		if k.Role != role || k.DNSKEY.Algorithm != a.p.Algorithm || !k.published() {
			continue
		}
		switch {
		case !k.Active.IsZero() && k.Retired.IsZero():
			cur = k
		case k.Active.IsZero():
			next = k
		}
	}
	return cur, next
}

// removeRetired takes retired keys out of the DNSKEY set once no cache
// can need them: a ZSK's signatures expire from caches MaxTTL after it
// stopped signing; a KSK's DS, replaced when its successor's was seen
// (when it retired), leaves caches DSTTL later; a CSK needs both.
func (a *advance) removeRetired() {
	for _, k := range a.keys {
		if k.Retired.IsZero() || !k.Removed.IsZero() {
			continue
		}
		wait := a.t.MaxTTL
		switch k.Role {
		case KSK:
			wait = a.t.DSTTL
		case CSK:
			wait = max(a.t.MaxTTL, a.t.DSTTL)
		}
		if a.due(k.Retired.Add(a.t.Propagation + wait)) {
			k.Removed, a.changed = a.now, true
		}
	}
}

// MarkDSSeen records that the parent publishes the DS of every key
// submitted to it, at now; it reports whether any was waiting.
// The keys given are never written; those returned are copies.
func MarkDSSeen(keys []*Key, now time.Time) ([]*Key, bool) {
	out, seen := make([]*Key, len(keys)), false
	for i, k := range keys {
		c := *k
		if c.submitted() {
			c.DSSeen, seen = now, true
		}
		out[i] = &c
	}
	return out, seen
}
