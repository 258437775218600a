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
// function call. Transitions are computed from the clock when the breaker
// is used; it runs no goroutine of its own (see the package doc for the
// timer of an open wait).
//
// The closed path is lock-free: the current state is one immutable phase
// behind an atomic pointer, and a success in a closed breaker with a count
// window costs one atomic add, on a cache line of the calling core's own
// once calls from several cores collide, and no clock read. Failures, slow
// calls, half-open probes and transitions take a mutex; listeners run
// after it is released.
//
// Create one with [New]; the zero value is not usable. A Breaker is safe for
// concurrent use.
type Breaker struct {
	// Read by every call; written only by transitions (cur).
	cur  atomic.Pointer[phase]
	set  *settings // shared by breakers of one configuration; see intern
	name string
	// clk is the injected clock and its time zero; nil means the real
	// clock, read as time.Since(epoch).
	clk      *injected
	classify resilience.ErrorClassifier
	disp     *resilience.Dispatcher
	// What listeners subscribe to, read once so that a call pays one load
	// of its own breaker for each question, and nothing at all for a
	// listener of state changes only.
	emitOutcome, emitReject, emitState bool
	stampIn                            bool // Allow reads the clock: slow-call rule or outcome listeners
	stampOut                           bool // Done reads the clock: time window, slow-call rule or outcome listeners
	coarse                             bool // closed-state calls read the coarse clock

	// Totals of the calls not counted in a phase's adder: written by
	// failures, ignored calls and slow calls, never by a fast success or
	// a rejection.
	fail, ignored, slow atomic.Uint64

	mu         sync.Mutex // protects the fields below and phase fields marked so
	succFolded uint64     // successes not in the current phase's count
	rejFolded  uint64     // rejections not in the current phase's count
	reopens    int        // consecutive re-openings since the breaker last closed
	lastWait   time.Duration
}

// injected is an injected clock and the time, on it, that the breaker's
// nanoseconds count from.
type injected struct {
	clock clock.Clock
	base  time.Time
}

// New returns a closed breaker configured by cfg, or a
// *[resilience.ConfigError] naming the first field that breaks a rule.
func New(cfg Config) (*Breaker, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	b := &Breaker{name: cfg.Name, set: intern(s), classify: cfg.Classifier}
	if cfg.Clock != nil {
		b.clk = &injected{clock: cfg.Clock, base: cfg.Clock.Now()}
	}
	if len(cfg.Listeners) > 0 {
		b.disp = resilience.NewDispatcher(cfg.Listeners)
	}
	b.emitOutcome = b.disp.Wants(resilience.EventOutcome)
	b.emitReject = b.disp.Wants(resilience.EventRejection)
	b.emitState = b.disp.Wants(resilience.EventStateChange)
	b.stampIn = s.slowDur > 0 || b.emitOutcome
	b.stampOut = b.stampIn || s.layout == layoutTime
	b.coarse = cfg.CoarseClock && b.clk == nil
	b.cur.Store(b.newPhase(Closed, 0, b.now(), 0, false))
	return b, nil
}

// Name returns the breaker's name.
func (b *Breaker) Name() string { return b.name }

// now reads the clock as nanoseconds since the breaker's time zero. With
// the real clock, time.Since reads only the monotonic clock, about half the
// cost of time.Now.
func (b *Breaker) now() int64 {
	if b.clk == nil {
		return int64(time.Since(epoch))
	}
	return int64(b.clk.clock.Now().Sub(b.clk.base))
}

// stamp reads the time of a closed-state call: the coarse clock if the
// breaker uses it, else now.
func (b *Breaker) stamp() int64 {
	if b.coarse {
		return coarse.now()
	}
	return b.now()
}

func (b *Breaker) at(n int64) time.Time {
	if b.clk == nil {
		return epoch.Add(time.Duration(n))
	}
	return b.clk.base.Add(time.Duration(n))
}

// settings returns the breaker's settings, for tests.
func (b *Breaker) settings() settings { return *b.set }

// Allow asks to make one call. It returns a [Permit] to report the outcome
// with, or a *[RejectedError] (matching [ErrOpen] or [ErrHalfOpenFull]) when
// the breaker refuses. A permit that is never reported does no harm in the
// closed state; in the half-open state it holds a probe slot until
// MaxHalfOpen has passed since the latest probe was admitted, and then
// opens the breaker again (see [Config]).
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
			p.start = b.stamp()
		}
		return p, nil
	case Open:
		// Until near is set, the wait is not over and the clock need not
		// be read; from then on the clock decides (see armOpenTimer).
		if !ph.near.Load() || b.now() < ph.until.Load() {
			return Permit{}, b.refuse(ph)
		}
	case ForcedOpen, HeldOpen:
		return Permit{}, b.refuse(ph)
	}
	return b.allowSlow()
}

// allowSlow admits or refuses under the lock: half-open, or an open breaker
// whose wait is over.
func (b *Breaker) allowSlow() (Permit, error) {
	var (
		p      Permit
		refuse *phase
	)
	b.mu.Lock()
	now := b.now()
	ph := b.advance(now)
	switch ph.state {
	case HalfOpen:
		if ph.inflight < b.set.maxProbes {
			ph.inflight++
			ph.until.Store(satAdd(now, b.set.maxHalfOpen))
			p = Permit{b: b, ph: ph, start: now, probe: &probe{}}
		} else {
			refuse = ph
		}
	case Open, ForcedOpen, HeldOpen:
		refuse = ph
	default: // closed meanwhile: stamped as Allow would
		p = Permit{b: b, ph: ph, start: now}
		if b.coarse {
			p.start = coarse.now()
		}
	}
	b.mu.Unlock()
	b.disp.Flush()
	if refuse != nil {
		return Permit{}, b.refuse(refuse)
	}
	return p, nil
}

// refuse counts a rejection by ph and returns its error.
func (b *Breaker) refuse(ph *phase) error {
	if !ph.calls.addBase() && !ph.calls.add() {
		b.late(&b.rejFolded)
	}
	if b.emitReject {
		b.disp.EmitRef(&resilience.Event{
			Kind: resilience.EventRejection, Policy: policyName, Name: b.name,
			Time: b.at(b.now()), Err: ph.ref,
		})
	}
	return ph.ref
}

// late counts a call in the totals: a success or a rejection of a phase
// retired while the call was being counted, a rare case worth a lock.
func (b *Breaker) late(total *uint64) {
	b.mu.Lock()
	*total++
	b.mu.Unlock()
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
