package breaker

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
)

// Breaker is a circuit breaker: it watches the outcomes of calls to one
// dependency and, when a trip rule holds, refuses calls for a while so the
// dependency can recover, then lets a few probes through to decide whether
// to close again. See [Config] for the rules and [State] for the states.
//
// A Breaker is not generic: one instance protects a dependency for calls of
// any result type. It is a [resilience.Guard], so it goes into a
// resilience.NewPipeline[T] or resilience.NewChain as it is, and it has a
// two-step API, [Breaker.Allow] then [Permit.Done], for code that is not one
// function call. Transitions are lazy, computed from the clock when the
// breaker is used; it runs no goroutine.
//
// The closed path is lock-free: the current state is one immutable phase
// behind an atomic pointer, and a success in a closed breaker with a count
// window costs an atomic add on its phase and no clock read. Failures, slow
// calls, half-open probes and transitions take a mutex; listeners run after
// it is released.
//
// Create one with [New]; the zero value is not usable. A Breaker is safe for
// concurrent use.
type Breaker struct {
	// Totals since New. Each outcome is counted exactly once: successes of
	// a counting phase through phase.calls, all others here. Written by
	// rejections and by calls in the manual states, so they come first,
	// away from the fields every call reads (as in phase).
	succ, fail, ignored, slow, rejected atomic.Uint64

	_ [64]byte

	// Read-only after New, except cur, which transitions replace.
	name     string
	set      settings
	classify resilience.ErrorClassifier
	clock    clock.Clock // nil: the real clock, read through time.Since
	base     time.Time   // time 0 of the breaker's nanosecond clock
	disp     *resilience.Dispatcher
	// What listeners subscribe to, read once so that a call pays one load
	// of its own breaker for each question, and nothing at all for a
	// listener of state changes only.
	emitOutcome, emitReject, emitState bool
	stampIn                            bool // Allow reads the clock: slow-call rule or outcome listeners
	stampOut                           bool // Done reads the clock: time window, slow-call rule or outcome listeners
	cur                                atomic.Pointer[phase]

	_ [64]byte // keeps the lock, written by failures, off the lines above

	mu         sync.Mutex // protects the fields below and phase fields marked so
	succFolded uint64     // successes of retired phases (see phase.calls)
	reopens    int        // consecutive re-openings since the breaker last closed
	lastWait   time.Duration
}

// New returns a closed breaker configured by cfg, or a
// *[resilience.ConfigError] naming the first field that breaks a rule.
func New(cfg Config) (*Breaker, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	b := &Breaker{name: cfg.Name, set: s, clock: cfg.Clock, classify: cfg.Classifier}
	if len(cfg.Listeners) > 0 {
		b.disp = resilience.NewDispatcher(cfg.Listeners)
	}
	b.emitOutcome = b.disp.Wants(resilience.EventOutcome)
	b.emitReject = b.disp.Wants(resilience.EventRejection)
	b.emitState = b.disp.Wants(resilience.EventStateChange)
	b.stampIn = s.slowDur > 0 || b.emitOutcome
	b.stampOut = b.stampIn || s.countSize == 0
	if b.clock != nil {
		b.base = b.clock.Now()
	} else {
		b.base = time.Now()
	}
	b.cur.Store(b.newPhase(Closed, 0, 0, 0))
	return b, nil
}

// Name returns the breaker's name.
func (b *Breaker) Name() string { return b.name }

// now reads the clock as nanoseconds since b.base. With the real clock,
// time.Since reads only the monotonic clock, about half the cost of
// time.Now, which matters to a call that a listener wants timed.
func (b *Breaker) now() int64 {
	if b.clock == nil {
		return int64(time.Since(b.base))
	}
	return int64(b.clock.Now().Sub(b.base))
}

func (b *Breaker) at(n int64) time.Time { return b.base.Add(time.Duration(n)) }

// Allow asks to make one call. It returns a [Permit] to report the outcome
// with, or a *[RejectedError] (matching [ErrOpen] or [ErrHalfOpenFull]) when
// the breaker refuses. A permit that is never reported does no harm in the
// closed state; in the half-open state it holds a probe slot until
// MaxHalfOpen has passed.
//
// Allow does not look at a context: a caller whose context is already done
// should not ask (as [Breaker.Guard] does not), since the call it would
// report is the caller's failure, not the dependency's.
func (b *Breaker) Allow() (Permit, error) {
	ph := b.cur.Load()
	switch ph.state {
	case Closed, MetricsOnly, Disabled:
		p := Permit{b: b, ph: ph}
		if b.stampIn {
			p.start = b.now()
		}
		return p, nil
	case Open:
		// The clock read is the floor of a rejection: the lazy move to
		// half-open depends on it.
		if b.now() < ph.until {
			return Permit{}, b.refuse(&ph.refusal)
		}
	case ForcedOpen, HeldOpen:
		return Permit{}, b.refuse(&ph.refusal)
	}
	return b.allowSlow()
}

// allowSlow admits or refuses under the lock: half-open, or an open breaker
// whose wait is over.
func (b *Breaker) allowSlow() (Permit, error) {
	var (
		p      Permit
		refuse *RejectedError
	)
	b.mu.Lock()
	now := b.now()
	ph := b.advance(now)
	switch ph.state {
	case HalfOpen:
		if ph.inflight < b.set.maxProbes {
			ph.inflight++
			p = Permit{b: b, ph: ph, start: now, probe: &probe{}}
		} else {
			refuse = &ph.full
		}
	case Open, ForcedOpen, HeldOpen:
		refuse = &ph.refusal
	default:
		p = Permit{b: b, ph: ph, start: now}
	}
	b.mu.Unlock()
	b.disp.Flush()
	if refuse != nil {
		return Permit{}, b.refuse(refuse)
	}
	return p, nil
}

func (b *Breaker) refuse(e *RejectedError) error {
	b.rejected.Add(1)
	if b.emitReject {
		b.disp.Emit(resilience.Event{
			Kind: resilience.EventRejection, Policy: policyName, Name: b.name,
			Time: b.at(b.now()), Err: e,
		})
	}
	return e
}

// State returns the current state, after any transition that time has made
// due (an open breaker whose wait is over reports HalfOpen).
func (b *Breaker) State() State {
	ph := b.cur.Load()
	if ph.state != Open && ph.state != HalfOpen {
		return ph.state
	}
	now := b.now()
	if !due(ph, now) {
		return ph.state
	}
	b.mu.Lock()
	st := b.advance(now).state
	b.mu.Unlock()
	b.disp.Flush()
	return st
}

// ForceOpen makes the breaker refuse every call, with [ErrOpen], until
// [Breaker.Reset] or another manual state. It replaces a health hold, which
// then cannot end it.
func (b *Breaker) ForceOpen() { b.manual(ForcedOpen, "forced open") }

// ForceClosed disables the breaker: it admits every call and never opens,
// until [Breaker.Reset] or another manual state. Outcomes are still totalled.
func (b *Breaker) ForceClosed() { b.manual(Disabled, "forced closed") }

// MetricsOnly makes the breaker admit every call while still judging them:
// when a trip rule holds it reports the opening it would make instead of
// opening (see the [MetricsOnly] state).
func (b *Breaker) MetricsOnly() { b.manual(MetricsOnly, "metrics only") }

// Reset closes the breaker with an empty window and restarts the open wait
// sequence. Results of calls admitted before are dropped. Totals are kept.
func (b *Breaker) Reset() {
	b.mu.Lock()
	b.enter(Closed, b.now(), 0, "reset", false)
	b.mu.Unlock()
	b.disp.Flush()
}

// manual enters a person's state. It replaces a hold (HeldOpen is a state of
// its own), so that Release, which only ends holds and open waits, cannot
// undo it.
func (b *Breaker) manual(st State, reason string) {
	b.mu.Lock()
	if b.cur.Load().state != st {
		b.enter(st, b.now(), 0, reason, false)
	}
	b.mu.Unlock()
	b.disp.Flush()
}
