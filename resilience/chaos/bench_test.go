package chaos_test

import (
	"context"
	"testing"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/chaos"
)

// guardLoop runs g b.N times from inside a one-guard chain, so that the
// chain's own cost stays out of the measurement and only g and the call
// it makes are timed.
func guardLoop(b *testing.B, g func(context.Context, resilience.Next) error) {
	b.ReportAllocs()
	ok := func(context.Context) error { return nil }
	_ = resilience.Run(context.Background(), ok, resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		for b.Loop() {
			_ = g(ctx, next)
		}
		return nil
	}))
}

// BenchmarkInjector compares a bare call (the floor) with the same call
// through an injector switched off, on but passing, and on and injecting.
func BenchmarkInjector(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		guardLoop(b, func(ctx context.Context, next resilience.Next) error { return next.Run(ctx) })
	})
	off, _ := chaos.Fault(errReset, chaos.Config{})
	b.Run("off", func(b *testing.B) { guardLoop(b, off.Guard) })
	never, _ := chaos.Fault(errReset, chaos.Config{Rate: 1e-9, On: true})
	b.Run("on-passing", func(b *testing.B) { guardLoop(b, never.Guard) })
	always, _ := chaos.Fault(errReset, chaos.Config{On: true})
	b.Run("on-injecting", func(b *testing.B) { guardLoop(b, always.Guard) })
}
