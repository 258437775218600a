package breaker

import (
	"sync/atomic"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// phase is one generation of a breaker: the state it is in and everything
// that lives exactly as long as that state does. A transition publishes a
// new phase; a permit remembers the phase that admitted it, so a result
// from an earlier generation is recognised by pointer comparison and
// dropped.
//
// A closed phase is 128 bytes, one size class, and holds nothing a closed
// breaker does not use: the error only refusing states return is in ref.
type phase struct {
	// calls counts what the phase's calls do without the lock: successes
	// in Closed, MetricsOnly and Disabled, rejections in the other states.
	// A call counted here is folded into the breaker's totals when the
	// phase is retired; one that comes after finds the adder sealed and
	// is counted in the totals directly (see adder), so each is counted
	// once, and no late success reaches the current window.
	calls adder
	// consecutive counts failures since the last success. Failures add
	// under Breaker.mu; successes clear it without the lock, after a load,
	// so that a healthy breaker never writes it. A success landing
	// between a failure's Add and its trip check is ordered after that
	// failure, which is a valid order of two concurrent calls.
	consecutive atomic.Int64

	// Immutable once published, but for near and until.
	state State
	// near is set once an Open phase's wait is nearly over: until then a
	// rejection reads no clock. See armOpenTimer.
	near atomic.Bool
	gen  uint64
	// since is when the phase began, in nanoseconds of the breaker's clock.
	since int64
	// until is, in Open, when a probe may be admitted; in HalfOpen,
	// MaxHalfOpen after the latest probe was admitted, when half-open gives
	// up if a probe is still outstanding (written under Breaker.mu); in
	// HeldOpen, when the hold expects its release
	// (its rejections' RetryAfter), which HoldOpen refreshes.
	until atomic.Int64
	// ref is the error a refusing or half-open phase returns, made once so
	// that a rejection allocates nothing; nil in the other states.
	ref *RejectedError
	win window // Closed and MetricsOnly

	// Protected by Breaker.mu.
	recorded  uint64 // Closed, MetricsOnly: calls counted under the lock, failures and slow successes
	failures  uint64 // Closed, MetricsOnly
	inflight  int32  // HalfOpen: probes admitted and not yet reported
	successes int32  // HalfOpen: successful probes
}

// openTimerLead is how long before the end of an open wait rejections go
// back to reading the clock. A runtime timer is not exact: it may fire late
// on a loaded machine. Firing it this much early lets the clock, not the
// timer, decide the exact end of the wait in every case but a timer later
// than the lead; and in a synctest bubble, where fake time cannot pass a
// timer whose function has not run, in every case.
const openTimerLead = time.Millisecond

// newPhase makes the phase of state st, generation gen, starting at now;
// wait is the open wait or the hold. hot gives it the adder cells of a
// breaker whose calls collide.
func (b *Breaker) newPhase(st State, gen uint64, now int64, wait time.Duration, hot bool) *phase {
	ph := &phase{state: st, gen: gen, since: now}
	if st.countsRejections() {
		reason := ErrOpen
		if st == HalfOpen {
			reason = ErrHalfOpenFull
		}
		ph.ref = &RejectedError{b: b, ph: ph, reason: reason}
	}
	switch st {
	case Open:
		ph.until.Store(satAdd(now, int64(wait)))
		b.armOpenTimer(ph, wait)
	case HalfOpen:
		ph.until.Store(satAdd(now, b.set.maxHalfOpen))
	case HeldOpen:
		ph.until.Store(satAdd(now, int64(wait)))
	case Closed, MetricsOnly:
		ph.win.init(b.set)
	}
	if hot {
		ph.calls.spreadNow()
	}
	return ph
}

// armOpenTimer lets rejections of an open phase skip the clock until its
// wait is nearly over: a runtime timer sets ph.near openTimerLead before
// the end, and from then on Allow checks the clock as before, so the clock
// still decides when the wait ends. With an injected clock, whose timers a
// test drives and which may run their functions late, or a wait too short
// for a timer, near is set at once and every rejection reads the clock.
//
// The timer runs no goroutine until it fires. It is not stopped when the
// phase ends early (a release, a reset): it then sets the flag of a phase
// nobody reads, one store. Stopping it would be tidier but could cross a
// synctest bubble — a timer armed in one must not be stopped outside it,
// which the runtime punishes with a fatal error — and a breaker may well
// open in a test's bubble and be reset after it. b.mu must be held.
func (b *Breaker) armOpenTimer(ph *phase, wait time.Duration) {
	if b.clk != nil || wait <= openTimerLead {
		ph.near.Store(true)
		return
	}
	time.AfterFunc(wait-openTimerLead, func() { ph.near.Store(true) })
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
	hot := b.retire(old)
	ph := b.newPhase(st, old.gen+1, now, wait, hot)
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

// retire seals ph's adder and folds its count into the totals, and
// reports whether its calls collided. b.mu must be held.
func (b *Breaker) retire(ph *phase) (hot bool) {
	n, hot := ph.calls.seal()
	if ph.state.countsRejections() {
		b.rejFolded += n
	} else {
		b.succFolded += n + ph.recorded - ph.failures
	}
	return hot
}

// trip opens the breaker. reopen says it opens from half-open, which
// lengthens the wait by the backoff strategy; retryAfter is the failing
// error's Retry-After, if any. b.mu must be held.
func (b *Breaker) trip(now int64, reopen bool, reason string, retryAfter time.Duration) {
	if b.cur.Load().state == MetricsOnly {
		b.enter(MetricsOnly, now, 0, "would open: "+reason, true)
		return
	}
	s := b.set
	k, wait := 0, s.openWait
	if reopen {
		k = b.reopens + 1
		// The strategy is configuration, like the clock: it is called under
		// the lock and must not call back into the breaker.
		if s.strategy != nil {
			if d := s.strategy.Delay(k, b.lastWait); d > 0 {
				wait = d
			}
		}
	}
	if s.useRetryAfter && retryAfter > wait {
		wait = retryAfter
	}
	wait = min(wait, s.maxOpenWait)
	b.reopens, b.lastWait = k, wait
	b.enter(Open, now, wait, reason, false)
}

// advance performs the transitions that time has made due: open → half-open
// once the wait is over, half-open → open once MaxHalfOpen has passed since
// the latest probe was admitted with a probe still outstanding. With none
// outstanding nothing has failed — the dependency was not called, or its
// callers gave up first — so half-open goes on and the wait does not grow.
// b.mu must be held.
func (b *Breaker) advance(now int64) *phase {
	for {
		ph := b.cur.Load()
		switch {
		case ph.state == Open && now >= ph.until.Load():
			b.enter(HalfOpen, now, 0, "open wait elapsed", false)
		case ph.state == HalfOpen && ph.inflight > 0 && now >= ph.until.Load():
			b.trip(now, true, "a probe outstanding for MaxHalfOpen", 0)
		default:
			return ph
		}
	}
}

// due reports whether ph has a timed transition pending at now.
func due(ph *phase, now int64) bool {
	return (ph.state == Open || ph.state == HalfOpen) && now >= ph.until.Load()
}

func satAdd(a, b int64) int64 {
	if s := a + b; s >= a {
		return s
	}
	return int64(^uint64(0) >> 1)
}
