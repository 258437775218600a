package timeout_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
	"github.com/riprap-go/riprap/resilience/timeout"
)

func abandoning(t *testing.T, d time.Duration, ls ...resilience.Listener) *timeout.Timeout {
	return newTimeout(t, timeout.Config{Timeout: d, Mode: timeout.Abandon, Name: "log", Listeners: ls})
}

func TestAbandonReturnsOnTimeWhenTheFunctionIgnoresItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := resiliencetest.NewRecorder()
		to := abandoning(t, time.Second, rec.Listener())
		finished := make(chan struct{})
		start := time.Now()
		v, err := resilience.Execute(context.Background(), func(context.Context) (string, error) {
			time.Sleep(10 * time.Second) // a dependency that ignores ctx (synctest: fake time)
			close(finished)
			return "late", nil
		}, to)
		assert.Equal(t, time.Second, time.Since(start), "returned at the deadline")
		assert.Empty(t, v)
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		assert.Equal(t, []resilience.EventKind{resilience.EventTimeout}, rec.Kinds())
		assert.Equal(t, int64(1), to.Snapshot().Abandoned, "the abandoned call still runs")

		<-finished // the abandoned function runs to its end...
		synctest.Wait()
		assert.Zero(t, to.Snapshot().Abandoned, "...and is no longer counted")
		// synctest.Test fails if its goroutine were still blocked.
	})
}

func TestAbandonReturnsTheResultOfAFastFunction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v, err := resilience.Execute(context.Background(), func(ctx context.Context) (string, error) {
			time.Sleep(999 * time.Millisecond) // synctest: fake time
			return "quote", nil
		}, abandoning(t, time.Second))
		assert.Equal(t, "quote", v, "the fork's result is adopted")
		assert.NoError(t, err)
	})
}

// The abandoned attempt runs on a fork of the call: when it finishes after
// the caller has moved on, its result lands in the fork, never in the
// result an outer guard (or the caller) reads. Under -race, a write to the
// caller's slot from the abandoned goroutine is also reported as a race.
func TestAbandonedAttemptNeverWritesTheCallersResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		finished := make(chan struct{})
		var seen string
		outer := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
			err := next.Run(ctx)
			<-finished // the abandoned attempt has returned "late" by now
			synctest.Wait()
			seen, _ = resilience.Result[string](next)
			return err
		})
		v, err := resilience.Execute(context.Background(), func(context.Context) (string, error) {
			defer close(finished)
			time.Sleep(2 * time.Second) // synctest: fake time
			return "late", nil
		}, outer, abandoning(t, time.Second))
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		assert.Empty(t, v)
		assert.Empty(t, seen, "the late result stayed in the abandoned fork")
	})
}

func TestAbandonReraisesAPanicInTheCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		to := abandoning(t, time.Second)
		defer func() {
			pe, ok := recover().(*resilience.PanicError)
			require.True(t, ok, "the panic crosses goroutines as a *PanicError")
			assert.Equal(t, "bank client bug", pe.Value)
			assert.Contains(t, string(pe.Stack), "TestAbandonReraisesAPanicInTheCaller")
			assert.Zero(t, to.Snapshot().Panics, "a panic the caller received is not an abandoned one")
		}()
		_, _ = resilience.Execute(context.Background(), func(context.Context) (int, error) { panic("bank client bug") }, to)
		t.Fatal("no panic")
	})
}

func TestAbandonReportsAPanicNobodyWaitsFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := resiliencetest.NewRecorder()
		to := abandoning(t, time.Second, rec.Listener())
		_, err := resilience.Execute(context.Background(), func(context.Context) (int, error) {
			time.Sleep(2 * time.Second) // synctest: fake time
			panic("late")
		}, to)
		require.ErrorIs(t, err, timeout.ErrTimeout)
		time.Sleep(2 * time.Second) // synctest: fake time
		synctest.Wait()

		events := rec.Events()
		require.Len(t, events, 2)
		assert.Equal(t, resilience.EventTimeout, events[0].Kind)
		assert.Equal(t, resilience.EventPanic, events[1].Kind)
		assert.Equal(t, "log", events[1].Name)
		var pe *resilience.PanicError
		require.ErrorAs(t, events[1].Err, &pe)
		assert.Equal(t, "late", pe.Value)
		s := to.Snapshot()
		assert.Equal(t, uint64(1), s.Panics)
		assert.Zero(t, s.Abandoned)
	})
}

// A panic event is per-call too: with no subscriber it is only counted.
func TestAbandonedPanicWithoutSubscriberIsCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		states := resiliencetest.NewRecorder()
		to := abandoning(t, time.Second, only(states.Listener(), resilience.EventStateChange))
		_, err := resilience.Execute(context.Background(), func(context.Context) (int, error) {
			time.Sleep(2 * time.Second) // synctest: fake time
			panic("late")
		}, to)
		require.ErrorIs(t, err, timeout.ErrTimeout)
		time.Sleep(2 * time.Second) // synctest: fake time
		synctest.Wait()
		assert.Empty(t, states.Events())
		assert.Equal(t, uint64(1), to.Snapshot().Panics)
	})
}

// A function that fails at once in abandon mode returns its own error: the
// goroutine releasing the call's context afterwards must not make it look
// like a timeout.
func TestAbandonFastFailureIsNotATimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := resiliencetest.NewRecorder()
		to := newTimeout(t, timeout.Config{Timeout: time.Hour, Mode: timeout.Abandon, Listeners: resilience.Listeners{rec.Listener()}})
		boom := errors.New("bank: 500")
		p := resilience.NewPipeline[int](to)
		for range 500 {
			_, err := p.Execute(context.Background(), func(context.Context) (int, error) { return 0, boom })
			require.Same(t, boom, err)
		}
		assert.Empty(t, rec.Events(), "no timeout event")
		assert.Zero(t, to.Snapshot().Timeouts)
	})
}

// A function that honours its context and returns its error at the
// deadline, in abandon mode, is a timeout whose error is kept.
func TestAbandonCooperativeFunctionTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, err := resilience.Execute(context.Background(), waitCtx, abandoning(t, time.Second))
		var te *timeout.Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, "log", te.Name)
		synctest.Wait()
	})
}

// Abandon mode in an error-only chain, whose fork shares nothing with the
// caller.
func TestAbandonInAChain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := resilience.NewChain(abandoning(t, time.Second))
		assert.NoError(t, c.Run(context.Background(), func(context.Context) error { return nil }))
		finished := make(chan struct{})
		err := c.Run(context.Background(), func(context.Context) error {
			defer close(finished)
			time.Sleep(time.Hour) // synctest: fake time
			return nil
		})
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		<-finished
	})
}
