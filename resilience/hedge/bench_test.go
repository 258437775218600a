package hedge_test

import (
	"context"
	"testing"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/hedge"
)

// guardLoop runs g b.N times from inside a one-guard pipeline of T, so
// that the pipeline's own cost stays out of the measurement and only g and
// the call it makes are timed.
func guardLoop[T any](b *testing.B, g func(context.Context, resilience.Next) error) {
	b.ReportAllocs()
	fn := func(context.Context) (T, error) { var v T; return v, nil }
	_, _ = resilience.NewPipeline[T](resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		for b.Loop() {
			_ = g(ctx, next)
		}
		return nil
	})).Execute(context.Background(), fn)
}

func bare(ctx context.Context, next resilience.Next) error { return next.Run(ctx) }

// BenchmarkFastPath measures calls answered before the delay: no hedge
// starts. "bare" is the floor: the same call without the hedger.
func BenchmarkFastPath(b *testing.B) {
	fixed, _ := hedge.New(hedge.Config{Delay: time.Second})
	quantile, _ := hedge.New(hedge.Config{Delay: time.Second, Quantile: 0.95})
	budget, _ := backoff.NewBudget(backoff.BudgetConfig{})
	budgeted, _ := hedge.New(hedge.Config{Delay: time.Second, Budget: budget})

	b.Run("pipeline/bare", func(b *testing.B) { guardLoop[string](b, bare) })
	b.Run("pipeline/fixed", func(b *testing.B) { guardLoop[string](b, fixed.Guard) })
	b.Run("pipeline/quantile", func(b *testing.B) { guardLoop[string](b, quantile.Guard) })
	b.Run("pipeline/budget", func(b *testing.B) { guardLoop[string](b, budgeted.Guard) })

	// An error-only chain's fork costs nothing, leaving the hedger's own.
	chainLoop := func(b *testing.B, g func(context.Context, resilience.Next) error) {
		b.ReportAllocs()
		_ = resilience.Run(context.Background(), func(context.Context) error { return nil },
			resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
				for b.Loop() {
					_ = g(ctx, next)
				}
				return nil
			}))
	}
	b.Run("chain/bare", func(b *testing.B) { chainLoop(b, bare) })
	b.Run("chain/fixed", func(b *testing.B) { chainLoop(b, fixed.Guard) })

	// The parts of the fast path, for scale: the context.WithCancel a call
	// pays for once something waits on its first attempt's context (from
	// a context that is never done, and from one that can be, which
	// registers the child with its parent), and the Reset and Stop of a
	// reused timer.
	b.Run("context.WithCancel", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		for b.Loop() {
			_, cancel := context.WithCancel(ctx)
			cancel()
		}
	})
	b.Run("context.WithCancel/cancellable-parent", func(b *testing.B) {
		b.ReportAllocs()
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		for b.Loop() {
			_, cancel := context.WithCancel(ctx)
			cancel()
		}
	})
	b.Run("timer.Reset+Stop", func(b *testing.B) {
		b.ReportAllocs()
		t := time.AfterFunc(time.Hour, func() {})
		for b.Loop() {
			t.Reset(time.Second)
			t.Stop()
		}
	})
}
