package hedge_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/hedge"
)

func TestPanicInTheFirstAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 10 * time.Millisecond})
		s := newScript(step{Delay: 50 * time.Millisecond, Panic: "boom"}, step{Delay: time.Second})
		assert.PanicsWithValue(t, "boom", func() { _, _, _ = execute(context.Background(), h, s) })
		synctest.Wait()
		assert.Equal(t, []int{1}, s.cancelledAttempts(), "the hedge is cancelled")
		assert.Zero(t, s.live.Load())
	})
}

func TestPanicInAHedgeReachesTheCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond})
		s := newScript(step{Delay: time.Second}, step{Delay: 10 * time.Millisecond, Panic: "boom"})
		start := time.Now()
		var got any
		func() {
			defer func() { got = recover() }()
			_, _, _ = execute(context.Background(), h, s)
		}()
		pe, ok := got.(*resilience.PanicError)
		require.True(t, ok, "a hedge's panic crosses over as a *PanicError, got %T", got)
		assert.Equal(t, "boom", pe.Value)
		assert.Contains(t, string(pe.Stack), "script")
		assert.Equal(t, 60*time.Millisecond, time.Since(start))
		assert.Equal(t, []int{0}, s.cancelledAttempts(), "the first attempt is cancelled")
		synctest.Wait()
		assert.Zero(t, s.live.Load())
	})
}

func TestLatePanicGoesToListeners(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		h := newHedger(t, hedge.Config{Name: "status", Delay: 50 * time.Millisecond,
			Listeners: resilience.Listeners{resilience.OnKinds(rec.listen, resilience.EventPanic)}})
		s := newScript(step{Delay: 80 * time.Millisecond},
			step{Delay: 100 * time.Millisecond, IgnoreCtx: true, Panic: "late"})
		v, _, err := execute(context.Background(), h, s)
		require.NoError(t, err)
		assert.Equal(t, "attempt 0", v)
		time.Sleep(time.Second)
		events := rec.all()
		require.Len(t, events, 1)
		assert.Equal(t, resilience.EventPanic, events[0].Kind)
		assert.Equal(t, "hedge", events[0].Policy)
		assert.Equal(t, "status", events[0].Name)
		var pe *resilience.PanicError
		require.ErrorAs(t, events[0].Err, &pe)
		assert.Equal(t, "late", pe.Value)
	})
}
