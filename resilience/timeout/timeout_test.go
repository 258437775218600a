package timeout_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/timeout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitCtx is a dependency that honours its context.
func waitCtx(ctx context.Context) (int, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}

func TestFiresAtItsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := timeout.NewWithConfig[int](timeout.Config{Timeout: 2 * time.Second, Name: "fx"})
		require.NoError(t, err)
		var seenDeadline time.Time
		start := time.Now()
		_, err = p.Wrap(func(ctx context.Context) (int, error) {
			seenDeadline, _ = ctx.Deadline()
			return waitCtx(ctx)
		})(context.Background())

		assert.Equal(t, 2*time.Second, time.Since(start), "returned when the deadline fired")
		assert.Equal(t, start.Add(2*time.Second), seenDeadline, "the function sees the deadline")
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.EqualError(t, err, `timeout: "fx" deadline of 2s exceeded`)
		var te *timeout.Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 2*time.Second, te.Timeout)
		assert.Equal(t, resilience.Failure, resilience.DefaultOutcome(context.Background(), err),
			"an outer breaker counts the policy's timeout as a failure")
	})
}

func TestFunctionSeesTheCauseOfItsCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := timeout.New[int](time.Second)
		var cause error
		_, _ = p.Wrap(func(ctx context.Context) (int, error) {
			<-ctx.Done()
			cause = context.Cause(ctx)
			return 0, ctx.Err()
		})(context.Background())
		assert.ErrorIs(t, cause, timeout.ErrTimeout)
	})
}

func TestFastCallIsUntouched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := timeout.New[int](time.Second)
		boom := errors.New("bank: 500")
		v, err := p.Wrap(func(context.Context) (int, error) { return 7, nil })(context.Background())
		assert.Equal(t, 7, v)
		assert.NoError(t, err)
		_, err = p.Wrap(func(context.Context) (int, error) { return 0, boom })(context.Background())
		assert.Same(t, boom, err)
	})
}

func TestCallerDeadlineEarlierIsReturnedUnchanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := timeout.New[int](5 * time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var got context.Context
		start := time.Now()
		_, err := p.Wrap(func(c context.Context) (int, error) {
			got = c
			return waitCtx(c)
		})(ctx)
		assert.Equal(t, time.Second, time.Since(start))
		assert.Equal(t, context.DeadlineExceeded, err, "the caller's own error, unchanged")
		assert.NotErrorIs(t, err, timeout.ErrTimeout)
		assert.Equal(t, ctx, got, "no new context when the caller's deadline comes first")
		assert.Equal(t, resilience.Ignored, resilience.DefaultOutcome(ctx, err))
	})
}

func TestCallerCancellationIsReturnedUnchanged(t *testing.T) {
	for _, mode := range []timeout.Mode{timeout.Cooperative, timeout.Abandon} {
		synctest.Test(t, func(t *testing.T) {
			p, _ := timeout.NewWithConfig[int](timeout.Config{Timeout: 5 * time.Second, Mode: mode})
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(time.Second, cancel)
			start := time.Now()
			_, err := p.Wrap(waitCtx)(ctx)
			assert.Equal(t, time.Second, time.Since(start))
			assert.Same(t, context.Canceled, err, "mode %d", mode)
		})
	}
}

func TestAbandonReturnsOnTimeWhenTheFunctionIgnoresItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var events []resilience.Event
		p, _ := timeout.NewWithConfig[string](timeout.Config{Timeout: time.Second, Mode: timeout.Abandon,
			Listeners: resilience.Listeners{func(e resilience.Event) { events = append(events, e) }}})
		finished := make(chan struct{})
		start := time.Now()
		v, err := p.Wrap(func(context.Context) (string, error) {
			time.Sleep(10 * time.Second) // fake time: a dependency that ignores ctx (synctest: fake time)
			close(finished)
			return "late", nil
		})(context.Background())
		assert.Equal(t, time.Second, time.Since(start), "returned at the deadline")
		assert.Empty(t, v)
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		require.Len(t, events, 1)
		assert.Equal(t, resilience.EventTimeout, events[0].Kind)

		<-finished // the abandoned function runs to its end...
		synctest.Wait()
		// ...and synctest.Test fails if its goroutine were still blocked.
	})
}

func TestAbandonReturnsTheResultOfAFastFunction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := timeout.NewWithConfig[string](timeout.Config{Timeout: time.Second, Mode: timeout.Abandon})
		v, err := p.Wrap(func(ctx context.Context) (string, error) {
			time.Sleep(999 * time.Millisecond) // synctest: fake time
			return "quote", nil
		})(context.Background())
		assert.Equal(t, "quote", v)
		assert.NoError(t, err)
	})
}

func TestAbandonReraisesAPanicInTheCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := timeout.NewWithConfig[int](timeout.Config{Timeout: time.Second, Mode: timeout.Abandon})
		call := p.Wrap(func(context.Context) (int, error) { panic("bank client bug") })
		defer func() {
			pe, ok := recover().(*resilience.PanicError)
			require.True(t, ok, "the panic crosses goroutines as a *PanicError")
			assert.Equal(t, "bank client bug", pe.Value)
			assert.Contains(t, string(pe.Stack), "TestAbandonReraisesAPanicInTheCaller")
		}()
		_, _ = call(context.Background())
		t.Fatal("no panic")
	})
}

func TestAbandonReportsAPanicNobodyWaitsFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var got []resilience.Event
		p, _ := timeout.NewWithConfig[int](timeout.Config{Timeout: time.Second, Mode: timeout.Abandon, Name: "log",
			Listeners: resilience.Listeners{func(e resilience.Event) { mu.Lock(); got = append(got, e); mu.Unlock() }}})
		_, err := p.Wrap(func(context.Context) (int, error) {
			time.Sleep(2 * time.Second) // synctest: fake time
			panic("late")
		})(context.Background())
		require.ErrorIs(t, err, timeout.ErrTimeout)
		time.Sleep(2 * time.Second) // synctest: fake time
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, got, 2)
		assert.Equal(t, resilience.EventPanic, got[1].Kind)
		var pe *resilience.PanicError
		require.ErrorAs(t, got[1].Err, &pe)
		assert.Equal(t, "late", pe.Value)
	})
}

func TestCooperativePanicPassesThrough(t *testing.T) {
	p, _ := timeout.New[int](time.Second)
	assert.PanicsWithValue(t, "boom", func() {
		_, _ = p.Wrap(func(context.Context) (int, error) { panic("boom") })(context.Background())
	})
}

func TestInjectedClockDrivesTheDeadline(t *testing.T) {
	for _, mode := range []timeout.Mode{timeout.Cooperative, timeout.Abandon} {
		mock := clock.NewMock()
		p, err := timeout.NewWithConfig[int](timeout.Config{Timeout: 3 * time.Second, Clock: mock, Mode: mode})
		require.NoError(t, err)
		entered := make(chan struct{})
		type res struct {
			err      error
			deadline time.Time
		}
		done := make(chan res, 1)
		go func() {
			var dl time.Time
			_, err := p.Wrap(func(ctx context.Context) (int, error) {
				dl, _ = ctx.Deadline()
				close(entered) // the timer is registered by now
				<-ctx.Done()
				if mode == timeout.Cooperative {
					assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
				}
				return 0, ctx.Err()
			})(context.Background())
			done <- res{err, dl}
		}()
		<-entered
		mock.Add(2 * time.Second)
		select {
		case <-done:
			t.Fatal("returned before the mock deadline")
		default:
		}
		mock.Add(time.Second)
		r := <-done
		assert.ErrorIs(t, r.err, timeout.ErrTimeout, "mode %d", mode)
		assert.Equal(t, time.Unix(0, 0).Add(3*time.Second), r.deadline)
	}
}

func TestInjectedClockCallFinishingInTimeStopsTheTimer(t *testing.T) {
	mock := clock.NewMock()
	p, _ := timeout.NewWithConfig[int](timeout.Config{Timeout: time.Second, Clock: mock})
	var inner context.Context
	v, err := p.Wrap(func(ctx context.Context) (int, error) { inner = ctx; return 1, nil })(context.Background())
	assert.Equal(t, 1, v)
	assert.NoError(t, err)
	assert.ErrorIs(t, inner.Err(), context.Canceled, "released when the call returns")
	mock.Add(time.Hour) // the stopped timer must not fire into anything
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  timeout.Config
		want string
	}{
		{"zero", timeout.Config{}, "timeout: Timeout must be positive, got 0s"},
		{"negative", timeout.Config{Timeout: -time.Second}, "timeout: Timeout must be positive, got -1s"},
		{"mode", timeout.Config{Timeout: time.Second, Mode: 9}, "timeout: unknown Mode 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := timeout.NewWithConfig[int](tt.cfg)
			assert.Nil(t, p)
			assert.EqualError(t, err, tt.want)
		})
	}
	_, err := timeout.New[int](0)
	assert.Error(t, err)
}

func TestNilFunction(t *testing.T) {
	p, _ := timeout.New[int](time.Second)
	_, err := p.Wrap(nil)(context.Background())
	assert.ErrorIs(t, err, resilience.ErrNilFunc)
}

func TestErrorWithoutName(t *testing.T) {
	e := &timeout.Error{Timeout: time.Second, Err: errors.New("read tcp: i/o timeout")}
	assert.Equal(t, "timeout: deadline of 1s exceeded", e.Error())
	assert.ErrorIs(t, e, timeout.ErrTimeout)
	assert.ErrorIs(t, e, context.DeadlineExceeded)
	assert.ErrorIs(t, e, e.Err, "the function's own error stays visible")
}

// A function that fails at once in abandon mode returns its own error: the
// goroutine releasing the call's context afterwards must not make it look
// like a timeout (the regression: most fast failures came back as
// *timeout.Error).
func TestAbandonFastFailureIsNotATimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var fired int
		p, _ := timeout.NewWithConfig[int](timeout.Config{Timeout: time.Hour, Mode: timeout.Abandon,
			Listeners: resilience.Listeners{func(resilience.Event) { fired++ }}})
		boom := errors.New("bank: 500")
		call := p.Wrap(func(context.Context) (int, error) { return 0, boom })
		for range 500 {
			_, err := call(context.Background())
			require.Same(t, boom, err)
		}
		assert.Zero(t, fired, "no timeout event")
	})
}
