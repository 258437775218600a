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

func benchStrategies(b *testing.B) map[string]backoff.Strategy {
	exp := func(j backoff.Jitter, src rand.Source) backoff.Strategy {
		return newExponential(b, backoff.ExponentialConfig{Jitter: j, Source: src})
	}
	return map[string]backoff.Strategy{
		"constant":           backoff.Constant(time.Second),
		"exponential":        exp(backoff.NoJitter, nil),
		"full":               exp(backoff.FullJitter, nil),
		"equal":              exp(backoff.EqualJitter, nil),
		"decorrelated":       exp(backoff.DecorrelatedJitter, nil),
		"proportional":       exp(backoff.ProportionalJitter, nil),
		"full/seeded-source": exp(backoff.FullJitter, rand.NewPCG(1, 2)),
		"exponential/past-table": newExponential(b, backoff.ExponentialConfig{
			Initial: time.Nanosecond, Multiplier: 1.0001, Max: time.Hour,
		}),
	}
}

// Attempts cycle through 1..16, or 301..316 for "past-table", whose
// schedule (×1.0001 from 1ns to an hour) is longer than the precomputed
// table, so that each call takes the math.Pow path.
func BenchmarkStrategyDelay(b *testing.B) {
	for name, s := range benchStrategies(b) {
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

// A successful first attempt through the retry, against the pipeline with
// no guard ("none"): the difference is the retry's own cost, which must
// include no allocation.
func BenchmarkRetryFirstAttemptSuccess(b *testing.B) {
	budget, err := backoff.NewBudget(backoff.BudgetConfig{})
	if err != nil {
		b.Fatal(err)
	}
	pipelines := map[string]resilience.Pipeline[int]{
		"none":          resilience.NewPipeline[int](),
		"default":       resilience.NewPipeline[int](newRetry(b, backoff.RetryConfig{})),
		"maxDuration":   resilience.NewPipeline[int](newRetry(b, backoff.RetryConfig{MaxDuration: time.Second})),
		"budget":        resilience.NewPipeline[int](newRetry(b, backoff.RetryConfig{Budget: budget})),
		"stateListener": resilience.NewPipeline[int](newRetry(b, backoff.RetryConfig{Listeners: resilience.Listeners{resilience.OnStateChange(func(resilience.Event) {})}})),
	}
	ctx := context.Background()
	for name, p := range pipelines {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Execute(ctx, succeed); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := p.Execute(ctx, succeed); err != nil {
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
	ctx := context.Background()
	for name, d := range map[string]time.Duration{"constant-0": 0, "tiny-timer-1ns": time.Nanosecond} {
		b.Run(name, func(b *testing.B) {
			p := resilience.NewPipeline[int](newRetry(b, backoff.RetryConfig{Strategy: backoff.Constant(d)}))
			calls := 0
			fn := func(context.Context) (int, error) {
				calls++
				if calls%3 != 0 {
					return 0, errBoom
				}
				return 1, nil
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Execute(ctx, fn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBudget(b *testing.B) {
	newBudget := func() *backoff.Budget {
		// A ratio of 1 and one request per retry keeps every retry granted.
		bu, err := backoff.NewBudget(backoff.BudgetConfig{Ratio: 1})
		if err != nil {
			b.Fatal(err)
		}
		return bu
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
