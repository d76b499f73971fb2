package answer

import (
	"sync/atomic"

	"github.com/mxdns/mxdns/zone"
)

// State is what a query needs, swapped as one value so that a query never
// sees a snapshot paired with the link states of another. It is never
// changed once made: a reload or a link change makes a new one, with an
// empty answer cache, so nothing is invalidated in place.
type State struct {
	Snap *zone.Snapshot
	Up   zone.LinkSet
	// signers sign the answers of Snap's signed zones to DO queries.
	signers Signers
	id      uint64 // from states: tells an Arrival which state it was found in
	// cache holds packed replies made from exactly Snap and Up. It is
	// nil with the query log on: every query then goes to the handler,
	// which logs it, and nothing would ever read the cache.
	cache *answerCache

	// What every query asks of the settings, taken out once here rather
	// than copying the snapshot's Settings on each query.
	queryLog  bool
	rrl       zone.RRL
	linkNames []string // by link index, for metrics and the query log
}

// states numbers every State made in the process, from 1.
var states atomic.Uint64

// NewState is the state serving snap with the links of up, its signed
// zones signed by signers (nil when none is signed).
func NewState(snap *zone.Snapshot, up zone.LinkSet, signers Signers) *State {
	set := snap.Settings()
	st := &State{Snap: snap, Up: up, signers: signers, id: states.Add(1), queryLog: set.QueryLog, rrl: set.RRL}
	if !set.QueryLog {
		st.cache = newAnswerCache(answerCacheSlots)
	}
	for _, l := range set.Links {
		st.linkNames = append(st.linkNames, l.Name)
	}
	return st
}

// Signers are the state's signers, for the next state of the same
// snapshot.
func (st *State) Signers() Signers { return st.signers }

// LinkNames are the names of the state's links, by index.
func (st *State) LinkNames() []string { return st.linkNames }

// linkName names a link index for metrics and logs ("none" for no link).
func (st *State) linkName(link int) string {
	if link >= 0 && link < len(st.linkNames) {
		return st.linkNames[link]
	}
	return "none"
}
