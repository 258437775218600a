package throttle_test

import (
	"context"
	"testing"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/throttle"
)

// guardLoop runs g b.N times from inside a one-guard chain, so that the
// chain's own cost stays out of the measurement.
func guardLoop(b *testing.B, g func(context.Context, resilience.Next) error) {
	b.ReportAllocs()
	_ = resilience.Run(context.Background(), func(context.Context) error { return nil },
		resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
			for b.Loop() {
				_ = g(ctx, next)
			}
			return nil
		}))
}

// BenchmarkGuard measures an admitted, successful call against the same
// call without the throttle, and a refused call.
func BenchmarkGuard(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		guardLoop(b, func(ctx context.Context, next resilience.Next) error { return next.Run(ctx) })
	})
	healthy, _ := throttle.New(throttle.Config{Seed: 1})
	b.Run("admitted", func(b *testing.B) { guardLoop(b, healthy.Guard) })

	down, _ := throttle.New(throttle.Config{Seed: 1, K: 1})
	for range 1000 {
		p, err := down.Allow()
		if err == nil {
			p.Done(resilience.Failure)
		}
	}
	b.Run("mostly-refused", func(b *testing.B) { guardLoop(b, down.Guard) })
}
