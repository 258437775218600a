package breaker

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// State is the state of a [Breaker].
//
// The automatic states are Closed -> Open -> HalfOpen -> Closed (or Open
// again), driven by calls and the clock.
//
// HeldOpen is entered by [Breaker.HoldOpen], on an outside signal such as a
// health check finding the dependency down, and left by [Breaker.Release]
// (to HalfOpen or Closed), by [Breaker.Reset] or by a manual state.
//
// ForcedOpen, Disabled and MetricsOnly are a person's commands: they are
// entered only by [Breaker.ForceOpen], [Breaker.ForceClosed] and
// [Breaker.MetricsOnly], and left only by another of them or by
// [Breaker.Reset], which always leads to Closed. A manual state always wins
// over a hold: it replaces one, HoldOpen leaves it alone, and Release never
// undoes it.
type State uint8

// The states of a breaker.
const (
	// Closed admits every call and counts outcomes against the trip rules.
	Closed State = iota
	// Open refuses every call until the open wait has elapsed.
	Open
	// HalfOpen admits up to MaxProbes calls at once to test the dependency.
	HalfOpen
	// ForcedOpen refuses every call until told otherwise.
	ForcedOpen
	// Disabled admits every call and never opens; outcomes are only totalled.
	Disabled
	// MetricsOnly admits every call and counts outcomes like Closed; when a
	// trip rule holds it reports the opening it would make (an
	// [resilience.EventStateChange] from metrics_only to metrics_only whose
	// Reason starts with "would open") and starts a fresh window.
	MetricsOnly
	// HeldOpen refuses every call, like ForcedOpen, because an outside
	// signal says the dependency is down ([Breaker.HoldOpen]); unlike a
	// person's ForcedOpen, its rejections carry a RetryAfter (the next
	// health probe) and [Breaker.Release] ends it.
	HeldOpen
)

var stateNames = [...]string{"closed", "open", "half_open", "forced_open", "disabled", "metrics_only", "held_open"}

// String returns the state in snake case ("half_open"), as in events.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// MarshalText encodes the state as its String form, for JSON status pages.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a state from its String form.
func (s *State) UnmarshalText(b []byte) error {
	for i, name := range stateNames {
		if name == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("breaker: unknown state %q", b)
}

// counts reports whether the state feeds outcomes to the trip rules.
func (s State) counts() bool { return s == Closed || s == MetricsOnly }

// refuses reports whether the state refuses every call.
func (s State) refuses() bool { return s == Open || s == ForcedOpen || s == HeldOpen }

// manual reports whether a person set the state.
func (s State) manual() bool { return s == ForcedOpen || s == Disabled || s == MetricsOnly }

// sealed marks a retired phase's call counter; see phase.calls.
const sealed = uint64(1) << 63

// phase is one generation of a breaker: the state it is in and everything
// that lives exactly as long as that state does. A transition publishes a
// new phase; a permit remembers the phase that admitted it, so a result
// from an earlier generation is recognised by pointer comparison and
// dropped.
type phase struct {
	// calls counts the successes and failures recorded in this phase
	// (Closed, MetricsOnly); it is the count window's sequence. Successes
	// add to it without the lock. Invariant: when the phase is retired,
	// under Breaker.mu, the sealed bit is set by one atomic Or and the
	// count it returns is folded into the breaker's totals; a success
	// whose Add returns a sealed value was not folded, counts itself in
	// Breaker.succ instead, and changes nothing else. So every success is
	// counted exactly once, and none from a retired phase reaches the
	// current window.
	calls atomic.Uint64
	// consecutive counts failures since the last success. Failures add
	// under Breaker.mu; successes clear it without the lock (a load first,
	// so a healthy breaker never writes it). A success landing between a
	// failure's Add and its trip check is ordered after that failure,
	// which is a valid order of two concurrent calls.
	consecutive atomic.Int64

	// The counters above are written by every closed call; the fields
	// below are read by every call. The padding keeps them on different
	// cache lines, and the counters first keep them off the line of the
	// next object on the heap, whose tail is as quiet as this one's.
	_ [64]byte

	// Immutable once published.
	state   State
	gen     uint64
	since   int64         // nanoseconds since Breaker.base
	until   int64         // Open: when a probe may be admitted; HalfOpen: when half-open gives up
	wait    time.Duration // Open: this opening's wait
	count   *countWindow  // Closed, MetricsOnly with a count window
	timed   *timeWindow   // Closed, MetricsOnly with a time window
	refusal RejectedError // what Allow returns while this phase refuses calls
	full    RejectedError // HalfOpen: what Allow returns when every probe slot is taken
	// holdUntil is when a HeldOpen phase expects to be released (its
	// rejections' RetryAfter). HoldOpen sets it before publishing the
	// phase and refreshes it afterwards, so lock-free readers load it
	// atomically.
	holdUntil atomic.Int64

	// Protected by Breaker.mu.
	failures  uint64 // failures recorded in this phase (Closed, MetricsOnly)
	inflight  int    // HalfOpen: probes admitted and not yet reported
	successes int    // HalfOpen: successful probes
}

func (b *Breaker) newPhase(st State, gen uint64, now int64, wait time.Duration) *phase {
	ph := &phase{state: st, gen: gen, since: now}
	ph.refusal = RejectedError{b: b, ph: ph, reason: ErrOpen}
	switch st {
	case Open:
		ph.wait, ph.until = wait, satAdd(now, int64(wait))
	case HalfOpen:
		ph.until = satAdd(now, b.set.maxHalfOpen)
		ph.full = RejectedError{b: b, ph: ph, reason: ErrHalfOpenFull}
	case HeldOpen:
		ph.holdUntil.Store(satAdd(now, int64(wait)))
	case Closed, MetricsOnly:
		if b.set.countSize > 0 {
			ph.count = newCountWindow(b.set.perBucket, b.set.buckets)
		} else {
			ph.timed = newTimeWindow(b.set.bucketWidth, b.set.buckets)
		}
	}
	return ph
}

// enter publishes a new phase in state st (waiting wait, if Open or
// HeldOpen) and queues its event. emit forces an event for a phase that
// keeps the state (a metrics-only "would open"). The phase is complete
// before it is published: lock-free readers never see it change. b.mu must
// be held.
func (b *Breaker) enter(st State, now int64, wait time.Duration, reason string, emit bool) *phase {
	old := b.cur.Load()
	// now may have been read before the lock, by a call that waited for
	// it behind a later transition: phases never start before the last.
	now = max(now, old.since)
	b.retire(old)
	ph := b.newPhase(st, old.gen+1, now, wait)
	b.cur.Store(ph)
	if st == Closed || st == Disabled || st == MetricsOnly {
		// The open-wait sequence restarts only when calls flow freely
		// again; a hold or a manual force open keeps it going.
		b.reopens, b.lastWait = 0, 0
	}
	if (emit || st != old.state) && b.emitState {
		b.disp.Enqueue(resilience.Event{
			Kind: resilience.EventStateChange, Policy: policyName, Name: b.name,
			Time: b.at(now), From: old.state.String(), To: st.String(),
			Degraded: st.refuses(), Reason: reason,
			Detail: b.snapshotLocked(now),
		})
	}
	return ph
}

// retire folds a counting phase's successes into the totals; see
// phase.calls for why this is exact. b.mu must be held.
func (b *Breaker) retire(ph *phase) {
	if !ph.state.counts() {
		return
	}
	n := ph.calls.Or(sealed) &^ sealed
	b.succFolded += n - ph.failures
}

// trip opens the breaker. reopen says it opens from half-open, which
// lengthens the wait by the backoff strategy; retryAfter is the failing
// error's Retry-After, if any. b.mu must be held.
func (b *Breaker) trip(now int64, reopen bool, reason string, retryAfter time.Duration) {
	if b.cur.Load().state == MetricsOnly {
		b.enter(MetricsOnly, now, 0, "would open: "+reason, true)
		return
	}
	k, wait := 0, b.set.openWait
	if reopen {
		k = b.reopens + 1
		// The strategy is configuration, like the clock: it is called under
		// the lock and must not call back into the breaker.
		if b.set.strategy != nil {
			if d := b.set.strategy.Delay(k, b.lastWait); d > 0 {
				wait = d
			}
		}
	}
	if b.set.useRetryAfter && retryAfter > wait {
		wait = retryAfter
	}
	wait = min(wait, b.set.maxOpenWait)
	b.reopens, b.lastWait = k, wait
	b.enter(Open, now, wait, reason, false)
}

// advance performs the transitions that time has made due: open → half-open
// once the wait is over, half-open → open once MaxHalfOpen is. b.mu must be
// held.
func (b *Breaker) advance(now int64) *phase {
	for {
		ph := b.cur.Load()
		switch {
		case ph.state == Open && now >= ph.until:
			b.enter(HalfOpen, now, 0, "open wait elapsed", false)
		case ph.state == HalfOpen && now >= ph.until:
			b.trip(now, true, "half-open lasted MaxHalfOpen without closing", 0)
		default:
			return ph
		}
	}
}

// due reports whether ph has a timed transition pending at now.
func due(ph *phase, now int64) bool {
	return (ph.state == Open || ph.state == HalfOpen) && now >= ph.until
}

func satAdd(a, b int64) int64 {
	if s := a + b; s >= a {
		return s
	}
	return int64(^uint64(0) >> 1)
}
