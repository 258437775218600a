package backoff

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Defaults of [ExponentialConfig].
const (
	DefaultInitial    = 100 * time.Millisecond
	DefaultMultiplier = 2.0
	DefaultMax        = 30 * time.Second
	DefaultSpread     = 0.2
	// DefaultDecorrelatedMultiplier is the growth bound of
	// [DecorrelatedJitter] when Multiplier is zero, as in the AWS analysis.
	DefaultDecorrelatedMultiplier = 3.0
)

// tableSize bounds the precomputed schedule. Common schedules reach their
// cap well within it (×1.1 from 1ms to an hour takes 160 steps); longer
// ones fall back to math.Pow for the attempts past it.
const tableSize = 256

// ExponentialConfig configures [NewExponential]. Its zero value means an
// unjittered schedule of 100ms, 200ms, 400ms, … capped at 30s.
type ExponentialConfig struct {
	// Initial is the first delay and, for DecorrelatedJitter, the least
	// delay. Zero means DefaultInitial.
	Initial time.Duration
	// Multiplier is the growth per attempt, at least 1 (1 is a constant
	// schedule). Zero means DefaultMultiplier, or
	// DefaultDecorrelatedMultiplier with DecorrelatedJitter.
	Multiplier float64
	// Max caps every delay, jitter included; at least Initial. Zero means
	// DefaultMax, or Initial when that is larger.
	Max time.Duration
	// Jitter is the randomisation; the zero value is NoJitter.
	Jitter Jitter
	// Spread is ProportionalJitter's fraction, in (0, 1]. Zero means
	// DefaultSpread. Other modes ignore it.
	Spread float64
	// Source makes the jitter reproducible (tests, examples). Nil means
	// math/rand/v2's top-level generator, which needs no lock. A source is
	// used under a mutex, so a strategy stays safe for concurrent use.
	Source rand.Source
}

// exponential is the strategy built by NewExponential. It is immutable
// after construction, hence safe for concurrent use.
type exponential struct {
	initial, max time.Duration
	mult, spread float64
	jitter       Jitter
	rnd          *random

	// table[i] is the unjittered delay of attempt i+1. When fixed, its last
	// entry repeats forever (the cap was reached, or the multiplier is 1),
	// so no attempt past it needs computing.
	table []time.Duration
	fixed bool
}

// NewExponential returns a strategy whose unjittered delay for attempt n is
// Initial × Multiplier^(n-1), capped at Max, then randomised by Jitter. Any
// attempt number is accepted: those below 1 count as 1, and huge ones yield
// Max without overflowing. It refuses a negative duration, a Multiplier
// below 1 or not finite, a Max below Initial, a Spread outside (0, 1] and an
// unknown Jitter, naming the field.
func NewExponential(cfg ExponentialConfig) (Strategy, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &exponential{
		initial: cfg.Initial, max: cfg.Max,
		mult: cfg.Multiplier, spread: cfg.Spread,
		jitter: cfg.Jitter, rnd: newRandom(cfg.Source),
	}
	e.buildTable()
	return e, nil
}

func (cfg ExponentialConfig) withDefaults() (ExponentialConfig, error) {
	switch {
	case cfg.Initial < 0:
		return cfg, fieldError("Initial", "≥ 0", cfg.Initial)
	case cfg.Max < 0:
		return cfg, fieldError("Max", "≥ 0", cfg.Max)
	case cfg.Multiplier != 0 && !(cfg.Multiplier >= 1 && !math.IsInf(cfg.Multiplier, 1)):
		return cfg, fieldError("Multiplier", "finite and ≥ 1", cfg.Multiplier)
	case cfg.Spread != 0 && !(cfg.Spread > 0 && cfg.Spread <= 1):
		return cfg, fieldError("Spread", "in (0,1]", cfg.Spread)
	case cfg.Jitter > ProportionalJitter:
		return cfg, fieldError("Jitter", "a known mode", cfg.Jitter)
	}
	if cfg.Initial == 0 {
		cfg.Initial = DefaultInitial
	}
	if cfg.Max == 0 {
		cfg.Max = max(DefaultMax, cfg.Initial)
	}
	if cfg.Max < cfg.Initial {
		return cfg, fieldError("Max", fmt.Sprintf("≥ Initial (%v)", cfg.Initial), cfg.Max)
	}
	if cfg.Multiplier == 0 {
		cfg.Multiplier = DefaultMultiplier
		if cfg.Jitter == DecorrelatedJitter {
			cfg.Multiplier = DefaultDecorrelatedMultiplier
		}
	}
	if cfg.Spread == 0 {
		cfg.Spread = DefaultSpread
	}
	return cfg, nil
}

func (e *exponential) buildTable() {
	for i := 0; i < tableSize; i++ {
		d := e.pow(i)
		e.table = append(e.table, d)
		if d == e.max || e.mult == 1 {
			e.fixed = true
			return
		}
	}
}

// pow computes initial × mult^i capped at max in floating point, where
// overflow becomes +Inf and compares above any cap instead of wrapping. The
// floor at initial undoes rounding of durations beyond 2^53ns.
func (e *exponential) pow(i int) time.Duration {
	f := float64(e.initial) * math.Pow(e.mult, float64(i))
	if !(f < float64(e.max)) {
		return e.max
	}
	return max(time.Duration(f), e.initial)
}

// base is the capped, unjittered delay of an attempt. The unsigned compare
// sends attempts below 1 (whose index wraps) to beyond as well.
func (e *exponential) base(attempt int) time.Duration {
	if i := attempt - 1; uint(i) < uint(len(e.table)) {
		return e.table[i]
	}
	return e.beyond(attempt)
}

// beyond is base outside the table; kept apart so that base inlines.
//
//go:noinline
func (e *exponential) beyond(attempt int) time.Duration {
	switch {
	case attempt < 1:
		return e.table[0]
	case e.fixed:
		return e.table[len(e.table)-1]
	}
	return e.pow(attempt - 1)
}

// Delay returns the delay before the given attempt.
func (e *exponential) Delay(attempt int, prev time.Duration) time.Duration {
	switch e.jitter {
	case FullJitter:
		d := e.base(attempt)
		return time.Duration(e.rnd.below(uint64(d) + 1))
	case EqualJitter:
		d := e.base(attempt)
		half := d / 2
		return half + time.Duration(e.rnd.below(uint64(d-half)+1))
	case ProportionalJitter:
		return e.proportional(e.base(attempt))
	case DecorrelatedJitter:
		return e.decorrelated(prev)
	}
	return e.base(attempt)
}

func (e *exponential) proportional(d time.Duration) time.Duration {
	f := float64(d) * (1 + e.spread*(2*e.rnd.fraction()-1))
	if !(f < float64(e.max)) {
		return e.max
	}
	return time.Duration(max(f, 0))
}

// decorrelated draws from [initial, min(max, prev×mult)]; a prev below
// initial (the first attempt, or a caller passing another schedule's
// delay) counts as initial.
func (e *exponential) decorrelated(prev time.Duration) time.Duration {
	hi := e.max
	if f := float64(max(prev, e.initial)) * e.mult; f < float64(e.max) {
		hi = max(time.Duration(f), e.initial)
	}
	return e.initial + time.Duration(e.rnd.below(uint64(hi-e.initial)+1))
}
