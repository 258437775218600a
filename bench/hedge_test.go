package bench

import (
	"context"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/hedgepolicy"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/hedge"
)

// BenchmarkHedgeFastPath: a hedging policy with a 1s delay around a call
// that answers at once, so no hedge starts (issue 19's fast path). riprap
// runs in an error-only chain (lib=riprap) and in a typed pipeline
// (lib=riprap-pipeline); lib=floor-chain and lib=floor-pipeline are the
// same without the hedger, the floors issue 19's "≤ 50 ns over a bare
// call" is measured against; floor-withcancel and floor-timer are two parts
// of the fast path (see below). failsafe runs its hedge policy through its
// executor.
func BenchmarkHedgeFastPath(b *testing.B) {
	ctx := context.Background()
	newHedger := func(tb testing.TB) *hedge.Hedger {
		h, err := hedge.New(hedge.Config{Delay: time.Second})
		require.NoError(tb, err)
		return h
	}
	okRun := func(context.Context) error { return nil }
	b.Run("lib=riprap", func(b *testing.B) {
		c := resilience.NewChain(newHedger(b))
		both(b, func() { _ = c.Run(ctx, okRun) })
	})
	b.Run("lib=floor-chain", func(b *testing.B) {
		c := resilience.NewChain()
		both(b, func() { _ = c.Run(ctx, okRun) })
	})
	b.Run("lib=riprap-pipeline", func(b *testing.B) {
		f := wrap(okCtx, newHedger(b))
		both(b, func() { _, _ = f(ctx) })
	})
	b.Run("lib=floor-pipeline", func(b *testing.B) {
		f := wrap(okCtx)
		both(b, func() { _, _ = f(ctx) })
	})
	// The two parts of riprap's fast path that are not its own code: the
	// fresh context.WithCancel of the first attempt, and the Reset and Stop
	// of the (reused) timer that would start a hedge, which reads the clock.
	b.Run("lib=floor-withcancel", func(b *testing.B) {
		both(b, func() {
			_, cancel := context.WithCancel(ctx)
			cancel()
		})
	})
	b.Run("lib=floor-timer", func(b *testing.B) {
		t := time.AfterFunc(time.Hour, func() {})
		defer t.Stop()
		both(b, func() {
			t.Reset(time.Second)
			t.Stop()
		})
	})
	b.Run("lib=failsafe", func(b *testing.B) {
		ex := failsafe.With[int](hedgepolicy.NewWithDelay[int](time.Second))
		both(b, func() { _, _ = ex.Get(okInt) })
	})
}
