package backoff_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
)

// Run with: go test -run '^$' -bench . -benchmem ./resilience/backoff/

var sinkDuration time.Duration

func benchStrategies() map[string]backoff.Strategy {
	exp := func(j backoff.Jitter, src rand.Source) backoff.Strategy {
		return resilience.Must(backoff.NewExponential(backoff.ExponentialConfig{Jitter: j, Source: src}))
	}
	return map[string]backoff.Strategy{
		"constant":           mustConstant(time.Second),
		"exponential":        exp(backoff.NoJitter, nil),
		"full":               exp(backoff.FullJitter, nil),
		"equal":              exp(backoff.EqualJitter, nil),
		"decorrelated":       exp(backoff.DecorrelatedJitter, nil),
		"proportional":       exp(backoff.ProportionalJitter, nil),
		"full/seeded-source": exp(backoff.FullJitter, rand.NewPCG(1, 2)),
		"exponential/past-table": resilience.Must(backoff.NewExponential(backoff.ExponentialConfig{
			Initial: time.Nanosecond, Multiplier: 1.0001, Max: time.Hour,
		})),
	}
}

// Attempts cycle through 1..16, or 301..316 for "past-table", whose
// schedule (×1.0001 from 1ns to an hour) is longer than the precomputed
// table, so that each call takes the math.Pow path.
func BenchmarkStrategyDelay(b *testing.B) {
	for name, s := range benchStrategies() {
		first := 1
		if name == "exponential/past-table" {
			first = 301
		}
		b.Run(name, func(b *testing.B) {
			var prev time.Duration
			for i := 0; b.Loop(); i++ {
				prev = s.Delay(i&15+first, prev)
			}
			sinkDuration = prev
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				var prev time.Duration
				for i := 0; pb.Next(); i++ {
					prev = s.Delay(i&15+first, prev)
				}
				sinkDuration = prev
			})
		})
	}
}

var sinkUint64 uint64

// The floor under every jittered strategy: one draw from math/rand/v2's
// top-level generator.
func BenchmarkRandUint64Baseline(b *testing.B) {
	for b.Loop() {
		sinkUint64 += rand.Uint64()
	}
}

func succeed(context.Context) (int, error) { return 1, nil }

func BenchmarkRetryFirstAttemptSuccess(b *testing.B) {
	budget, err := backoff.NewBudget(backoff.BudgetConfig{})
	if err != nil {
		b.Fatal(err)
	}
	configs := map[string]backoff.RetryConfig[int]{
		"default":     {},
		"maxDuration": {MaxDuration: time.Second},
		"budget":      {Budget: budget},
	}
	for name, cfg := range configs {
		// Wrapped once, through a pipeline as an application would.
		p := resilience.Must(resilience.NewPipeline(resilience.Must(backoff.NewRetry(cfg))))
		f := p.Wrap(succeed)
		ctx := context.Background()
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := f(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := f(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// Two failures then success, with no delay: the cost of the retry
// machinery itself.
func BenchmarkRetryTwoFailuresThenSuccess(b *testing.B) {
	p := resilience.Must(backoff.NewRetry(backoff.RetryConfig[int]{Strategy: mustConstant(0)}))
	ctx := context.Background()
	b.Run("constant-0", func(b *testing.B) {
		calls := 0
		f := p.Wrap(func(context.Context) (int, error) {
			calls++
			if calls%3 != 0 {
				return 0, errBoom
			}
			return 1, nil
		})
		for b.Loop() {
			if _, err := f(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tiny-timer-1ns", func(b *testing.B) {
		calls := 0
		f := resilience.Must(backoff.NewRetry(backoff.RetryConfig[int]{Strategy: mustConstant(time.Nanosecond)})).
			Wrap(func(context.Context) (int, error) {
				calls++
				if calls%3 != 0 {
					return 0, errBoom
				}
				return 1, nil
			})
		for b.Loop() {
			if _, err := f(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkBudget(b *testing.B) {
	newBudget := func() *backoff.Budget {
		// A ratio of 1 and one request per retry keeps every retry granted.
		return resilience.Must(backoff.NewBudget(backoff.BudgetConfig{Ratio: 1}))
	}
	b.Run("request+allow", func(b *testing.B) {
		bu := newBudget()
		for b.Loop() {
			bu.Request()
			bu.AllowRetry()
		}
	})
	b.Run("allow", func(b *testing.B) {
		bu := newBudget()
		for b.Loop() {
			bu.AllowRetry()
		}
	})
	b.Run("request+allow/parallel", func(b *testing.B) {
		bu := newBudget()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				bu.Request()
				bu.AllowRetry()
			}
		})
	})
}
