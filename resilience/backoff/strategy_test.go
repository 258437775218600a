package backoff_test

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience/backoff"
)

func TestNewExponentialRefusesBadConfig(t *testing.T) {
	cases := []struct {
		name  string
		cfg   backoff.ExponentialConfig
		field string
		rule  string
	}{
		{"negative initial", backoff.ExponentialConfig{Initial: -time.Second}, "Initial", "must not be negative"},
		{"negative max", backoff.ExponentialConfig{Max: -1}, "Max", "must not be negative"},
		{"multiplier below 1", backoff.ExponentialConfig{Multiplier: 0.5}, "Multiplier", "must be finite and at least 1"},
		{"negative multiplier", backoff.ExponentialConfig{Multiplier: -2}, "Multiplier", "must be finite and at least 1"},
		{"NaN multiplier", backoff.ExponentialConfig{Multiplier: math.NaN()}, "Multiplier", "must be finite and at least 1"},
		{"infinite multiplier", backoff.ExponentialConfig{Multiplier: math.Inf(1)}, "Multiplier", "must be finite and at least 1"},
		{"max below initial", backoff.ExponentialConfig{Initial: time.Second, Max: time.Millisecond}, "Max", "must be at least Initial (1s)"},
		{"spread above 1", backoff.ExponentialConfig{Spread: 1.5}, "Spread", "must be in (0, 1]"},
		{"negative spread", backoff.ExponentialConfig{Spread: -0.1}, "Spread", "must be in (0, 1]"},
		{"unknown jitter", backoff.ExponentialConfig{Jitter: backoff.Jitter(99)}, "Jitter", "must be a known Jitter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := backoff.NewExponential(c.cfg)
			assert.Nil(t, s)
			requireConfigError(t, err, "", c.field, c.rule)
		})
	}
}

func TestExponentialDefaults(t *testing.T) {
	s, err := backoff.NewExponential(backoff.ExponentialConfig{})
	require.NoError(t, err)
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}
	for i, w := range want {
		assert.Equal(t, w, s.Delay(i+1, 0), "attempt %d", i+1)
	}
	assert.Equal(t, backoff.DefaultMax, s.Delay(10, 0), "attempt 10 is past the cap")
	assert.Equal(t, 100*time.Millisecond, s.Delay(0, 0), "attempts below 1 count as 1")
	assert.Equal(t, 100*time.Millisecond, s.Delay(math.MinInt, 0))
}

func TestExponentialInitialAboveDefaultMax(t *testing.T) {
	s, err := backoff.NewExponential(backoff.ExponentialConfig{Initial: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, time.Minute, s.Delay(1, 0))
	assert.Equal(t, time.Minute, s.Delay(5, 0), "the default Max rises to Initial")
}

func TestSameSeedSameDelays(t *testing.T) {
	for _, j := range jitters {
		t.Run(j.String(), func(t *testing.T) {
			mk := func() backoff.Strategy {
				s, err := backoff.NewExponential(backoff.ExponentialConfig{Jitter: j, Source: rand.NewPCG(9, 9)})
				require.NoError(t, err)
				return s
			}
			a, b := mk(), mk()
			var pa, pb time.Duration
			for n := 1; n <= 20; n++ {
				pa, pb = a.Delay(n, pa), b.Delay(n, pb)
				require.Equal(t, pa, pb, "attempt %d", n)
			}
		})
	}
}

// An injected source is not safe for concurrent use by itself; the
// strategy must serialise it (the race detector checks).
func TestInjectedSourceConcurrentUse(t *testing.T) {
	s, err := backoff.NewExponential(backoff.ExponentialConfig{Jitter: backoff.FullJitter, Source: rand.NewPCG(1, 1)})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for n := 1; n <= 200; n++ {
				d := s.Delay(n, 0)
				if d < 0 || d > backoff.DefaultMax {
					t.Errorf("attempt %d: delay %v out of [0, %v]", n, d, backoff.DefaultMax)
				}
			}
		})
	}
	wg.Wait()
}

var jitters = []backoff.Jitter{backoff.NoJitter, backoff.FullJitter, backoff.EqualJitter, backoff.DecorrelatedJitter, backoff.ProportionalJitter}

// drawExponential draws a valid configuration, with durations spread over
// nanoseconds to the full int64 range so that overflow paths are reached.
func drawExponential(t *rapid.T, jitter backoff.Jitter) backoff.ExponentialConfig {
	initial := time.Duration(rapid.OneOf(
		rapid.Int64Range(1, int64(time.Second)),
		rapid.Int64Range(1, math.MaxInt64),
	).Draw(t, "initial"))
	maxD := initial + time.Duration(rapid.Int64Range(0, math.MaxInt64-int64(initial)).Draw(t, "above"))
	return backoff.ExponentialConfig{
		Initial:    initial,
		Max:        maxD,
		Multiplier: rapid.Float64Range(1, 10).Draw(t, "multiplier"),
		Jitter:     jitter,
		Spread:     rapid.OneOf(rapid.Float64Range(1e-18, 1e-9), rapid.Float64Range(0.001, 1)).Draw(t, "spread"),
		Source:     rand.NewPCG(rapid.Uint64().Draw(t, "seed1"), rapid.Uint64().Draw(t, "seed2")),
	}
}

func drawAttempt(t *rapid.T, label string) int {
	return rapid.OneOf(rapid.IntRange(-3, 100), rapid.IntRange(100, math.MaxInt)).Draw(t, label)
}

// Every jittered delay lies within its mode's bounds around the unjittered
// delay of the same attempt, and never above Max.
func TestDelayWithinBounds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		j := rapid.SampledFrom(jitters).Draw(t, "jitter")
		cfg := drawExponential(t, j)
		s, err := backoff.NewExponential(cfg)
		require.NoError(t, err)
		plainCfg := cfg
		plainCfg.Jitter = backoff.NoJitter
		plain, err := backoff.NewExponential(plainCfg)
		require.NoError(t, err)

		var prev time.Duration
		for range 20 {
			n := drawAttempt(t, "attempt")
			base := plain.Delay(n, 0)
			d := s.Delay(n, prev)
			lo, hi := bounds(cfg, base, prev)
			if d < lo || d > hi || d > cfg.Max {
				t.Fatalf("%v attempt %d prev %v: delay %v outside [%v, %v] (base %v)", j, n, prev, d, lo, hi, base)
			}
			prev = d
		}
	})
}

// bounds returns the interval a delay of mode cfg.Jitter must fall in.
func bounds(cfg backoff.ExponentialConfig, base, prev time.Duration) (lo, hi time.Duration) {
	switch cfg.Jitter {
	case backoff.FullJitter:
		return 0, base
	case backoff.EqualJitter:
		return base / 2, base
	case backoff.ProportionalJitter:
		// One part in 1e9 of slack for floating-point rounding.
		lo := float64(base) * (1 - cfg.Spread) * (1 - 1e-9)
		return time.Duration(lo), capAt(float64(base)*(1+cfg.Spread)*(1+1e-9), cfg.Max)
	case backoff.DecorrelatedJitter:
		return cfg.Initial, capAt(float64(max(prev, cfg.Initial))*cfg.Multiplier*(1+1e-9), cfg.Max)
	}
	return cfg.Initial, cfg.Max
}

// capAt converts f to a duration no greater than limit, comparing in
// floating point first so that values beyond int64 cannot wrap.
func capAt(f float64, limit time.Duration) time.Duration {
	if f >= float64(limit) {
		return limit
	}
	return time.Duration(f)
}

// Without jitter the schedule never shrinks and reaches Max no later than
// the first attempt whose exact value Initial×Multiplier^(n-1) is ≥ Max.
func TestExponentialNonDecreasingReachesCap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawExponential(t, backoff.NoJitter)
		cfg.Multiplier = rapid.Float64Range(1.01, 10).Draw(t, "growing multiplier")
		s, err := backoff.NewExponential(cfg)
		require.NoError(t, err)

		capAt := 1 + int(math.Ceil(math.Log(float64(cfg.Max)/float64(cfg.Initial))/math.Log(cfg.Multiplier)))
		prev := time.Duration(0)
		for n := 1; n <= capAt+2; n++ {
			d := s.Delay(n, prev)
			if d < prev {
				t.Fatalf("attempt %d: delay %v below attempt %d's %v", n, d, n-1, prev)
			}
			prev = d
		}
		// +1 absorbs rounding in the logarithms above.
		assert.Equal(t, cfg.Max, s.Delay(capAt+1, 0), "attempt %d", capAt+1)
		assert.Equal(t, cfg.Max, s.Delay(math.MaxInt, 0), "attempt MaxInt")
	})
}

func TestDecorrelatedStaysInBaseCap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawExponential(t, backoff.DecorrelatedJitter)
		s, err := backoff.NewExponential(cfg)
		require.NoError(t, err)
		// prev is drawn freely too: a caller may feed any earlier delay.
		prev := time.Duration(rapid.Int64Range(0, math.MaxInt64).Draw(t, "first prev"))
		for n := 1; n <= 30; n++ {
			d := s.Delay(n, prev)
			if d < cfg.Initial || d > cfg.Max {
				t.Fatalf("attempt %d prev %v: %v outside [%v, %v]", n, prev, d, cfg.Initial, cfg.Max)
			}
			prev = d
		}
	})
}

func TestConstantIsConstant(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := time.Duration(rapid.Int64().Draw(t, "d"))
		s := backoff.Constant(d)
		n := drawAttempt(t, "attempt")
		prev := time.Duration(rapid.Int64().Draw(t, "prev"))
		assert.Equal(t, max(d, 0), s.Delay(n, prev), "a negative d counts as zero")
	})
}

func TestJitterString(t *testing.T) {
	for j, want := range map[backoff.Jitter]string{
		backoff.NoJitter: "none", backoff.FullJitter: "full", backoff.EqualJitter: "equal",
		backoff.DecorrelatedJitter: "decorrelated", backoff.ProportionalJitter: "proportional",
		backoff.Jitter(42): "Jitter(42)",
	} {
		assert.Equal(t, want, j.String())
	}
}

// At the edge of the duration range, float64 rounds up to 2^63, which no
// conversion back may wrap.
func TestDelayAtDurationLimit(t *testing.T) {
	for _, j := range jitters {
		for _, spread := range []float64{1e-18, 0.2, 1} {
			s, err := backoff.NewExponential(backoff.ExponentialConfig{
				Initial: math.MaxInt64 - 1, Max: math.MaxInt64, Multiplier: 1.5, Jitter: j, Spread: spread,
			})
			require.NoError(t, err)
			for _, n := range []int{math.MinInt, 1, 2, math.MaxInt} {
				d := s.Delay(n, math.MaxInt64)
				lo := time.Duration(0)
				switch j {
				case backoff.NoJitter, backoff.DecorrelatedJitter:
					lo = math.MaxInt64 - 1
				case backoff.EqualJitter:
					lo = math.MaxInt64 / 2
				}
				assert.GreaterOrEqual(t, d, lo, "%v spread %v attempt %d", j, spread, n)
			}
		}
	}
}

// Bound reports the longest delay a strategy can return, and every delay
// drawn stays within it; a strategy that does not report one says so.
func TestBoundCoversEveryDelay(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		initial := time.Duration(rapid.Int64Range(1, int64(time.Second)).Draw(t, "initial"))
		capd := initial + time.Duration(rapid.Int64Range(0, int64(time.Minute)).Draw(t, "extra"))
		s, err := backoff.NewExponential(backoff.ExponentialConfig{Initial: initial, Max: capd,
			Jitter: backoff.Jitter(rapid.IntRange(0, 4).Draw(t, "jitter"))})
		require.NoError(t, err)
		bound, ok := backoff.Bound(s)
		require.True(t, ok)
		assert.Equal(t, capd, bound)
		prev := time.Duration(0)
		for n := 1; n <= 20; n++ {
			prev = s.Delay(n, prev)
			assert.LessOrEqual(t, prev, bound, "attempt %d", n)
		}
	})
	d, ok := backoff.Bound(backoff.Constant(3 * time.Second))
	assert.True(t, ok)
	assert.Equal(t, 3*time.Second, d)
	_, ok = backoff.Bound(unbounded{})
	assert.False(t, ok, "a strategy without MaxDelay reports no bound")
	_, ok = backoff.Bound(nil)
	assert.False(t, ok)
}

type unbounded struct{}

func (unbounded) Delay(n int, _ time.Duration) time.Duration { return time.Duration(n) * time.Hour }
