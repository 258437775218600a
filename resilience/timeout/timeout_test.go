package timeout_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// waitCtx is a dependency that honours its context.
func waitCtx(ctx context.Context) (int, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}

func newTimeout(t *testing.T, cfg timeout.Config) *timeout.Timeout {
	t.Helper()
	to, err := timeout.New(cfg)
	require.NoError(t, err)
	return to
}

func TestFiresAtItsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := resiliencetest.NewRecorder()
		to := newTimeout(t, timeout.Config{Timeout: 2 * time.Second, Name: "fx", Listeners: resilience.Listeners{rec.Listener()}})
		var seenDeadline time.Time
		start := time.Now()
		_, err := resilience.Execute(context.Background(), func(ctx context.Context) (int, error) {
			seenDeadline, _ = ctx.Deadline()
			return waitCtx(ctx)
		}, to)

		assert.Equal(t, 2*time.Second, time.Since(start), "returned when the deadline fired")
		assert.Equal(t, start.Add(2*time.Second), seenDeadline, "the function sees the deadline")
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		var te *timeout.Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, "fx", te.Name)
		assert.Equal(t, 2*time.Second, te.Timeout)
		assert.ErrorIs(t, te.Err, context.DeadlineExceeded, "the function's own error is kept")
		assert.Equal(t, resilience.Failure, resilience.DefaultOutcome(context.Background(), err),
			"an outer breaker counts the timeout as a failure")

		events := rec.Events()
		require.Len(t, events, 1)
		assert.Equal(t, resilience.EventTimeout, events[0].Kind)
		assert.Equal(t, "timeout", events[0].Policy)
		assert.Equal(t, "fx", events[0].Name)
		assert.Equal(t, 2*time.Second, events[0].Delay)
		assert.Equal(t, start.Add(2*time.Second), events[0].Time)
		assert.Same(t, te, events[0].Err)
	})
}

func TestFastCallIsUntouched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := resiliencetest.NewRecorder()
		to := newTimeout(t, timeout.Config{Timeout: time.Second, Listeners: resilience.Listeners{rec.Listener()}})
		boom := errors.New("bank: 500")
		v, err := resilience.Execute(context.Background(), func(context.Context) (int, error) { return 7, nil }, to)
		assert.Equal(t, 7, v)
		assert.NoError(t, err)
		_, err = resilience.Execute(context.Background(), func(context.Context) (int, error) { return 0, boom }, to)
		assert.Same(t, boom, err)
		assert.Empty(t, rec.Events())
		assert.Zero(t, to.Snapshot().Timeouts)
	})
}

// One timeout serves pipelines and chains of any result type.
func TestOneTimeoutServesEveryResultType(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		to := timeout.After(time.Second)
		quotes := resilience.NewPipeline[string](to)
		balances := resilience.NewPipeline[int](to)
		writes := resilience.NewChain(to)

		q, err := quotes.Execute(context.Background(), func(context.Context) (string, error) { return "EUR/USD", nil })
		require.NoError(t, err)
		assert.Equal(t, "EUR/USD", q)
		_, err = balances.Execute(context.Background(), waitCtx)
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		err = writes.Run(context.Background(), func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		assert.Equal(t, uint64(2), to.Snapshot().Timeouts)
	})
}

func TestCallerDeadlineEarlierIsReturnedUnchanged(t *testing.T) {
	for _, mode := range []timeout.Mode{timeout.Cooperative, timeout.Abandon} {
		t.Run(mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				to := newTimeout(t, timeout.Config{Timeout: 5 * time.Second, Mode: mode})
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				seen := make(chan time.Time, 1) // the abandoned goroutine may still run
				start := time.Now()
				_, err := resilience.Execute(ctx, func(c context.Context) (int, error) {
					d, _ := c.Deadline()
					seen <- d
					return waitCtx(c)
				}, to)
				assert.Equal(t, time.Second, time.Since(start))
				assert.Equal(t, context.DeadlineExceeded, err, "the caller's own error, unchanged")
				assert.Equal(t, start.Add(time.Second), <-seen, "the caller's deadline bounds the call")
				assert.Zero(t, to.Snapshot().Timeouts)
			})
		})
	}
}

// In cooperative mode no context is made when the caller's deadline comes
// first: the function gets the caller's own.
func TestCooperativeStepsAsideForAnEarlierDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	var got context.Context
	_, err := resilience.Execute(ctx, func(c context.Context) (int, error) { got = c; return 1, nil },
		timeout.After(2*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, ctx, got)
}

func TestCallerCancellationIsReturnedUnchanged(t *testing.T) {
	for _, mode := range []timeout.Mode{timeout.Cooperative, timeout.Abandon} {
		t.Run(mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := resiliencetest.NewRecorder()
				to := newTimeout(t, timeout.Config{Timeout: 5 * time.Second, Mode: mode, Listeners: resilience.Listeners{rec.Listener()}})
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(time.Second, cancel)
				start := time.Now()
				_, err := resilience.Execute(ctx, waitCtx, to)
				assert.Equal(t, time.Second, time.Since(start))
				assert.Same(t, context.Canceled, err)
				assert.Equal(t, resilience.Ignored, resilience.DefaultOutcome(ctx, err))
				assert.Empty(t, rec.Events(), "no timeout event")
			})
		})
	}
}

func TestCooperativePanicPassesThrough(t *testing.T) {
	assert.PanicsWithValue(t, "boom", func() {
		_, _ = resilience.Execute(context.Background(), func(context.Context) (int, error) { panic("boom") },
			timeout.After(time.Second))
	})
}

func TestNilFunction(t *testing.T) {
	_, err := resilience.NewPipeline[int](timeout.After(time.Second)).Execute(context.Background(), nil)
	assert.ErrorIs(t, err, resilience.ErrNilFunc)
}

// Timeout events are per-call: a listener that subscribes to state changes
// only is never called and costs the call nothing (the event is not even
// built: no clock read for its Time), and one that subscribes to timeouts
// gets them.
func TestTimeoutEventsOnlyForSubscribers(t *testing.T) {
	fire := func(t *testing.T, l resilience.Listener) int64 {
		var nows int64
		synctest.Test(t, func(t *testing.T) {
			clk := &countingClock{Mock: clock.NewMock()}
			to := newTimeout(t, timeout.Config{Timeout: time.Second, Clock: clk, Listeners: resilience.Listeners{l}})
			added := make(chan struct{})
			_, err := resilience.Execute(context.Background(), func(ctx context.Context) (int, error) {
				go func() { clk.Add(time.Second); close(added) }()
				return waitCtx(ctx)
			}, to)
			require.ErrorIs(t, err, timeout.ErrTimeout)
			<-added
			nows = clk.nows.Load()
		})
		return nows
	}
	states, timeouts := resiliencetest.NewRecorder(), resiliencetest.NewRecorder()
	bare := fire(t, resilience.Listener{})
	assert.Equal(t, bare, fire(t, only(states.Listener(), resilience.EventStateChange)), "clock reads with a state-change listener")
	assert.Equal(t, bare+1, fire(t, only(timeouts.Listener(), resilience.EventTimeout)), "clock reads with a timeout listener")
	assert.Empty(t, states.Events())
	assert.Equal(t, []resilience.EventKind{resilience.EventTimeout}, timeouts.Kinds())
}

// countingClock counts the reads of its time.
type countingClock struct {
	*clock.Mock
	nows atomic.Int64
}

func (c *countingClock) Now() time.Time {
	c.nows.Add(1)
	return c.Mock.Now()
}

func TestErrorText(t *testing.T) {
	cases := []struct {
		err  *timeout.Error
		want string
	}{
		{&timeout.Error{Timeout: time.Second}, "timeout: deadline of 1s exceeded"},
		{&timeout.Error{Name: "fx", Timeout: 2 * time.Second}, `timeout: "fx" deadline of 2s exceeded`},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.err.Error())
	}
	inner := errors.New("read tcp: i/o timeout")
	e := &timeout.Error{Timeout: time.Second, Err: inner}
	assert.ErrorIs(t, e, timeout.ErrTimeout)
	assert.ErrorIs(t, e, context.DeadlineExceeded)
	assert.ErrorIs(t, e, inner, "the function's own error stays visible")
}
