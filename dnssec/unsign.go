package dnssec

import "time"

// AdvanceUnsigning moves a zone whose dnssec: was removed towards unsigned
// without a moment a validator could find it bogus (RFC 8078 §4): it stays
// signed and publishes the CDS and CDNSKEY that ask the parent to delete
// its DS; once the parent has (u.DSGone, from MarkDSGone), it stays signed
// until no cache can hold the old DS (Propagation + DSTTL), and then its
// keys leave. It returns the keys and the unsigning, whether either
// changed, when it must run again (zero: waiting for the parent, or done),
// and whether the zone is still signed.
//
// The keys given are never written; those returned are copies.
func AdvanceUnsigning(keys []*Key, u Unsigning, t Timing, now time.Time) ([]*Key, Unsigning, bool, time.Time, bool) {
	out := make([]*Key, len(keys))
	signed := false
	for i, k := range keys {
		c := *k
		out[i] = &c
		signed = signed || c.published()
	}
	if !signed {
		return out, u, false, time.Time{}, false
	}
	changed := false
	if u.Since.IsZero() {
		u.Since, changed = now, true
	}
	if u.DSGone.IsZero() {
		return out, u, changed, time.Time{}, true
	}
	if due := u.DSGone.Add(t.Propagation + t.DSTTL); now.Before(due) {
		return out, u, changed, due, true
	}
	for _, k := range out {
		if k.Removed.IsZero() {
			if k.Retired.IsZero() {
				k.Retired = now
			}
			k.Removed = now
		}
	}
	return out, u, true, time.Time{}, false
}
