package backoff

import (
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

	// table[i] is the range attempt i+1 draws from, jitter applied, so a
	// call costs a lookup and at most one random draw. When fixed, the
	// last entry repeats forever (the cap was reached, or the multiplier
	// is 1), so no attempt past the table needs computing.
	table []span
	fixed bool
}

// span is a range of delays: a delay is drawn uniformly from
// [lo, lo+width], or is lo when width is 0.
type span struct{ lo, width time.Duration }

// NewExponential returns a strategy whose unjittered delay for attempt n is
// Initial × Multiplier^(n-1), capped at Max, then randomised by Jitter. Any
// attempt number is accepted: those below 1 count as 1, and huge ones yield
// Max without overflowing. It refuses a negative duration, a Multiplier
// below 1 or not finite, a Max below Initial, a Spread outside (0, 1] and an
// unknown Jitter with a [*resilience.ConfigError] naming the field.
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
		return cfg, configError("", "Initial", "must not be negative", cfg.Initial)
	case cfg.Max < 0:
		return cfg, configError("", "Max", "must not be negative", cfg.Max)
	case cfg.Multiplier != 0 && !(cfg.Multiplier >= 1 && !math.IsInf(cfg.Multiplier, 1)):
		return cfg, configError("", "Multiplier", "must be finite and at least 1", cfg.Multiplier)
	case cfg.Spread != 0 && !(cfg.Spread > 0 && cfg.Spread <= 1):
		return cfg, configError("", "Spread", "must be in (0, 1]", cfg.Spread)
	case cfg.Jitter > ProportionalJitter:
		return cfg, configError("", "Jitter", "must be a known Jitter", cfg.Jitter)
	}
	if cfg.Initial == 0 {
		cfg.Initial = DefaultInitial
	}
	if cfg.Max == 0 {
		cfg.Max = max(DefaultMax, cfg.Initial)
	}
	if cfg.Max < cfg.Initial {
		return cfg, configError("", "Max", "must be at least Initial ("+cfg.Initial.String()+")", cfg.Max)
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
		e.table = append(e.table, e.span(d))
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

// span applies the jitter mode to an unjittered delay d ≤ max.
func (e *exponential) span(d time.Duration) span {
	switch e.jitter {
	case FullJitter:
		return span{0, d}
	case EqualJitter:
		return span{d / 2, d - d/2}
	case ProportionalJitter:
		// Both ends are compared in floating point before converting, so
		// that rounding near 2^63ns cannot wrap.
		lo := d
		if f := float64(d) * (1 - e.spread); f < float64(d) {
			lo = time.Duration(f)
		}
		hi := e.max
		if f := float64(d) * (1 + e.spread); f < float64(e.max) {
			hi = max(time.Duration(f), d)
		}
		return span{lo, hi - lo}
	}
	return span{d, 0}
}

// Delay returns the delay before the given attempt. The unsigned compare
// sends attempts below 1 (whose index wraps) to beyond as well.
func (e *exponential) Delay(attempt int, prev time.Duration) time.Duration {
	if e.jitter == DecorrelatedJitter {
		return e.decorrelated(prev)
	}
	var s span
	if i := attempt - 1; uint(i) < uint(len(e.table)) {
		s = e.table[i]
	} else {
		s = e.beyond(attempt)
	}
	if s.width == 0 {
		return s.lo
	}
	return s.lo + time.Duration(e.rnd.below(uint64(s.width)+1))
}

// beyond is the span of an attempt outside the table.
func (e *exponential) beyond(attempt int) span {
	switch {
	case attempt < 1:
		return e.table[0]
	case e.fixed:
		return e.table[len(e.table)-1]
	}
	return e.span(e.pow(attempt - 1))
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

// MaxDelay returns Max: no delay, jittered or not, exceeds it.
func (e *exponential) MaxDelay() time.Duration { return e.max }
