package breaker

import (
	"context"
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
// any result type, through the two-step [Breaker.Allow] / [Permit.Done] or
// through [Policy] adapters. Transitions are lazy, computed from the clock
// when the breaker is used; it runs no goroutine.
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
	clock    clock.Clock
	base     time.Time // time 0 of the breaker's nanosecond clock
	disp     *resilience.Dispatcher
	stampIn  bool // Allow reads the clock: slow-call rule or listeners
	stampOut bool // Done reads the clock: time window, slow-call rule or listeners
	cur      atomic.Pointer[phase]

	_ [64]byte // keeps the lock, written by failures, off the lines above

	mu         sync.Mutex // protects the fields below and phase fields marked so
	succFolded uint64     // successes of retired phases (see phase.calls)
	reopens    int        // consecutive re-openings since the breaker last closed
	lastWait   time.Duration
}

// New returns a closed breaker configured by cfg, or an error naming the
// first field that breaks a rule.
func New(cfg Config) (*Breaker, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	b := &Breaker{name: cfg.Name, set: s, clock: cfg.Clock, classify: cfg.Classifier}
	if b.clock == nil {
		b.clock = clock.New()
	}
	if len(cfg.Listeners) > 0 {
		b.disp = resilience.NewDispatcher(cfg.Listeners)
	}
	b.stampIn = s.slowDur > 0 || b.disp.Active()
	b.stampOut = b.stampIn || s.countSize == 0
	b.base = b.clock.Now()
	b.cur.Store(b.newPhase(Closed, 0, 0, 0))
	return b, nil
}

// Name returns the breaker's name.
func (b *Breaker) Name() string { return b.name }

// now reads the clock as nanoseconds since b.base; with the real clock the
// difference is monotonic.
func (b *Breaker) now() int64 { return int64(b.clock.Now().Sub(b.base)) }

func (b *Breaker) at(n int64) time.Time { return b.base.Add(time.Duration(n)) }

// Allow asks to make one call. It returns a [Permit] to report the outcome
// with, or a *[RejectedError] (matching [ErrOpen] or [ErrHalfOpenFull]) when
// the breaker refuses. A permit that is never reported does no harm in the
// closed state; in the half-open state it holds a probe slot until
// MaxHalfOpen has passed.
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
	case ForcedOpen:
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
	case Open, ForcedOpen:
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
	if b.disp.Active() {
		b.disp.Emit(resilience.Event{
			Kind: resilience.EventRejection, Policy: policyName, Name: b.name,
			Time: b.clock.Now(), Err: e,
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
// [Breaker.Reset] or another manual state.
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

func (b *Breaker) manual(st State, reason string) {
	b.mu.Lock()
	// A person's command replaces a health hold even in the same state, so
	// that Release, which only ends holds, cannot undo it.
	if cur := b.cur.Load(); cur.state != st || cur.held.Load() {
		b.enter(st, b.now(), 0, reason, cur.held.Load())
	}
	b.mu.Unlock()
	b.disp.Flush()
}

// judge classifies err with the configured classifier, falling back to
// [resilience.DefaultOutcome].
func (b *Breaker) judge(ctx context.Context, err error) resilience.Outcome {
	if b.classify != nil {
		if o := b.classify(ctx, err); o != resilience.Unclassified {
			return o
		}
	}
	return resilience.DefaultOutcome(ctx, err)
}
