package dashboard

import (
	"cmp"
	"slices"
	"time"
	"unicode/utf8"
)

// MaxTransitions bounds the transitions one timeline keeps. A timeline
// also forgets transitions older than Config.History, keeping only the
// one in force at its start, so it reaches this bound only for a
// component that changes state more than once a second for minutes on
// end; then the oldest go first.
//
// Each transition is 64 bytes plus its reason, cut to about 160 bytes;
// with the slack a growing slice keeps, a timeline holds under 80 KiB, and
// the dashboard one timeline per breaker and per health target it shows.
const MaxTransitions = 256

// maxReason bounds the reason text a transition keeps.
const maxReason = 160

// Transition is one entry of a timeline: the component entered State at
// At. A timeline lists its transitions in Seq order.
//
// At is zero when the time is unknown: a timeline begun by a listener's
// report starts with the state the component left, entered at a time the
// dashboard never learned; the page draws it from the start of its window.
//
// Seq orders and identifies the transitions of one timeline, so a
// transition learned twice (from a listener and from a sample) is kept
// once, and one learned late finds its place: for a breaker it is the
// breaker's generation, for a health target the Unix time in microseconds
// at which it entered the status (0 for a target never probed), exact in
// a JavaScript number.
type Transition struct {
	State string    `json:"state"`
	At    time.Time `json:"at"`
	Seq   uint64    `json:"seq"`
	// Reason says why, when a listener reported the change ("failure rate
	// 0.62 >= 0.50"); a change seen only by sampling has none.
	Reason string `json:"reason,omitempty"`
}

// timeline is the bounded, Seq-ordered history of one component's state.
// It is not safe for concurrent use; Dashboard.mu protects every one.
type timeline struct {
	entries []Transition
	// seen is the number of the last sample that listed the component (or
	// of the sample before a listener's report), so components gone from a
	// registry lose their timelines.
	seen uint64
	// of is the component (a *breaker.Breaker, or the *health.Checker of
	// a target) the transitions are of, once a sample has said: a breaker
	// replaced by another of its name starts a new timeline, since its
	// generations start again from 0.
	of any
}

// insert adds t unless a transition of its Seq is there, and reports
// whether it did. When the timeline is full the oldest transition goes,
// or t itself if it would be the oldest.
func (tl *timeline) insert(t Transition) bool {
	t.Reason = clip(t.Reason, maxReason)
	i, found := slices.BinarySearchFunc(tl.entries, t.Seq, func(e Transition, seq uint64) int {
		return cmp.Compare(e.Seq, seq)
	})
	if found {
		// A sample found it first; the listener's report knows why.
		if tl.entries[i].Reason == "" {
			tl.entries[i].Reason = t.Reason
		}
		return false
	}
	if len(tl.entries) >= MaxTransitions {
		if i == 0 {
			return false
		}
		tl.entries = slices.Delete(tl.entries, 0, 1)
		i--
	}
	tl.entries = slices.Insert(tl.entries, i, t)
	return true
}

// prune forgets the transitions that ended before cutoff, keeping the one
// in force at cutoff so the timeline still says what the state was then.
func (tl *timeline) prune(cutoff time.Time) {
	n := 0
	for n+1 < len(tl.entries) && !tl.entries[n+1].At.After(cutoff) {
		n++
	}
	tl.entries = slices.Delete(tl.entries, 0, n)
}

// snapshot returns a copy the caller may keep after the lock is released.
func (tl *timeline) snapshot() []Transition { return slices.Clone(tl.entries) }

// clip cuts s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
