package breaker_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

// The breaker as a resilience.Guard in pipelines and chains.

type reply struct {
	Status int
}

// One breaker in pipelines of two result types and in an error-only
// chain: failures of each count against the same dependency, and a result
// judged a failure by a pipeline classifier counts too.
func TestGuardSharedByPipelinesOfEveryShape(t *testing.T) {
	b, _ := newBreaker(t, breaker.Config{ConsecutiveFailures: 3})
	receipts := resilience.NewPipeline[string](b)
	replies := resilience.NewPipeline[reply](b).WithClassifier(func(_ context.Context, r reply, err error) resilience.Outcome {
		if err == nil && r.Status == http.StatusServiceUnavailable {
			return resilience.Failure
		}
		return resilience.Unclassified
	})
	writes := resilience.NewChain(b)
	ctx := context.Background()

	_, err := receipts.Execute(ctx, func(context.Context) (string, error) { return "", errors.New("reset") })
	require.EqualError(t, err, "reset")
	r, err := replies.Execute(ctx, func(context.Context) (reply, error) { return reply{503}, nil })
	require.NoError(t, err, "the caller sees the reply")
	assert.Equal(t, 503, r.Status)
	require.Equal(t, breaker.Closed, b.State())
	require.EqualError(t, writes.Run(ctx, func(context.Context) error { return errors.New("disk") }), "disk")

	assert.Equal(t, breaker.Open, b.State())
	assert.Equal(t, uint64(3), b.Snapshot().Failures)
	called := false
	_, err = receipts.Execute(ctx, func(context.Context) (string, error) { called = true; return "ok", nil })
	assert.ErrorIs(t, err, breaker.ErrOpen)
	assert.True(t, resilience.IsRejected(err))
	assert.False(t, called, "a refused call never reaches the function")
}

func TestGuardRecordsPanicAsFailureAndReraises(t *testing.T) {
	b, _ := newBreaker(t, breaker.Config{ConsecutiveFailures: 1})
	p := resilience.NewPipeline[int](b)
	assert.PanicsWithValue(t, "boom", func() {
		_, _ = p.Execute(context.Background(), func(context.Context) (int, error) { panic("boom") })
	})
	s := b.Snapshot()
	assert.Equal(t, uint64(1), s.Failures)
	assert.Equal(t, breaker.Open, s.State)
}

func TestGuardNilBreakerFailsEveryCall(t *testing.T) {
	var b *breaker.Breaker
	called := false
	_, err := resilience.NewPipeline[int](b).Execute(context.Background(), func(context.Context) (int, error) {
		called = true
		return 1, nil
	})
	assert.ErrorIs(t, err, breaker.ErrNilBreaker)
	assert.False(t, called)
}

// Who judges a call: a pipeline classifier first, then the breaker's own
// classifier, then the default rules.
func TestGuardClassifierOrder(t *testing.T) {
	errNotFound := errors.New("not found")
	b, _ := newBreaker(t, breaker.Config{
		ConsecutiveFailures: 1,
		Classifier: func(_ context.Context, err error) resilience.Outcome {
			if err != nil {
				return resilience.Failure // the breaker's own rule: every error fails
			}
			return resilience.Unclassified
		},
	})
	lookups := resilience.NewPipeline[int](b).WithClassifier(func(_ context.Context, _ int, err error) resilience.Outcome {
		if errors.Is(err, errNotFound) {
			return resilience.Success // an answer, not a failure
		}
		return resilience.Unclassified
	})
	ctx := context.Background()
	_, err := lookups.Execute(ctx, func(context.Context) (int, error) { return 0, errNotFound })
	require.ErrorIs(t, err, errNotFound, "the caller sees the original error")
	s := b.Snapshot()
	assert.Equal(t, breaker.Closed, s.State, "the pipeline's verdict wins over the breaker's classifier")
	assert.Equal(t, uint64(1), s.Successes)

	_, _ = lookups.Execute(ctx, func(context.Context) (int, error) { return 0, context.Canceled })
	assert.Equal(t, breaker.Open, b.State(), "the breaker's classifier wins over the default rules")
}

// A classifier that panics in half-open must not leave its probe slot
// taken: the probe counts as a failure.
func TestPanickingClassifierFreesItsProbeSlot(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  breaker.Config
		pipe func(*breaker.Breaker) resilience.Pipeline[int]
	}{
		{"pipeline classifier", breaker.Config{}, func(b *breaker.Breaker) resilience.Pipeline[int] {
			return resilience.NewPipeline[int](b).WithClassifier(func(context.Context, int, error) resilience.Outcome {
				panic("classifier bug")
			})
		}},
		{"breaker classifier", breaker.Config{Classifier: func(context.Context, error) resilience.Outcome {
			panic("classifier bug")
		}}, func(b *breaker.Breaker) resilience.Pipeline[int] { return resilience.NewPipeline[int](b) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.ConsecutiveFailures, tt.cfg.OpenWait = 1, time.Second
			b, clk := newBreaker(t, tt.cfg)
			call(b, resilience.Failure)
			clk.Add(time.Second)
			p := tt.pipe(b)
			assert.PanicsWithValue(t, "classifier bug", func() {
				_, _ = p.Execute(context.Background(), func(context.Context) (int, error) { return 42, nil })
			})
			assert.Equal(t, breaker.Open, b.State(), "the panicking probe counts as a failure")
			clk.Add(2 * time.Second)
			_, err := b.Allow()
			assert.NoError(t, err, "and freed its slot")
		})
	}
}

// Issue 12 item 8: a handler whose request deadline is the only timeout,
// calling a dependency that hangs, opens the breaker: each call's deadline
// passes while it is in flight, which is the dependency's failure.
func TestHangingDependencyWithOnlyTheCallersDeadlineOpens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := breaker.New(breaker.Config{ConsecutiveFailures: 3}) // the real clock, faked by the bubble
		require.NoError(t, err)
		hang := resiliencetest.NewBlocking()
		p := resilience.NewChain(b)
		for i := range 3 {
			require.Equal(t, breaker.Closed, b.State(), "call %d", i)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err := p.Run(ctx, hang.Run)
			cancel()
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}
		s := b.Snapshot()
		assert.Equal(t, breaker.Open, s.State)
		assert.Equal(t, uint64(3), s.Failures)
		assert.Equal(t, 3, hang.Calls())

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		assert.ErrorIs(t, p.Run(ctx, hang.Run), breaker.ErrOpen, "the next caller is not held for its whole deadline")
		assert.Equal(t, 3, hang.Calls())
	})
}

// A caller that cancels its own request, plainly or with a cause, never
// trips a healthy breaker, however many do.
func TestCallerCancellationNeverTrips(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := breaker.New(breaker.Config{ConsecutiveFailures: 1})
		require.NoError(t, err)
		hang := resiliencetest.NewBlocking()
		p := resilience.NewChain(b)
		for i := range 10 {
			ctx, cancel := context.WithCancelCause(context.Background())
			done := make(chan error)
			go func() { done <- p.Run(ctx, hang.Run) }()
			synctest.Wait() // the call is in flight
			if i%2 == 0 {
				cancel(nil)
			} else {
				cancel(errors.New("client went away"))
			}
			require.ErrorIs(t, <-done, context.Canceled)
		}
		s := b.Snapshot()
		assert.Equal(t, breaker.Closed, s.State)
		assert.Equal(t, uint64(10), s.Ignored)
		assert.Zero(t, s.Failures)
		assert.Equal(t, 10, hang.Calls())
	})
}

// A call whose context is already done is neither admitted nor counted:
// not run, not totalled, and it takes no probe slot.
func TestDoneContextIsNeitherAdmittedNorCounted(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	for _, ctx := range []context.Context{cancelled, expired} {
		t.Run(context.Cause(ctx).Error(), func(t *testing.T) {
			b, clk := newBreaker(t, breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Second})
			calls := resiliencetest.FailN(0, nil)
			p := resilience.NewChain(b)
			for range 3 {
				assert.ErrorIs(t, p.Run(ctx, calls.Run), ctx.Err())
			}
			assert.Equal(t, breaker.Closed, b.State())
			assert.Equal(t, breaker.Snapshot{Name: "", State: breaker.Closed, Since: b.Snapshot().Since}, b.Snapshot(), "nothing counted")

			call(b, resilience.Failure)
			clk.Add(time.Second)
			assert.ErrorIs(t, p.Run(ctx, calls.Run), ctx.Err())
			assert.Zero(t, calls.Calls())
			probe, err := b.Allow()
			require.NoError(t, err, "the probe slot is still free")
			probe.Done(resilience.Success)
			assert.Equal(t, breaker.Closed, b.State())
		})
	}
}

// The closed successful call through Guard allocates nothing beyond what
// the pipeline itself does.
func TestGuardAllocatesNothingBeyondThePipeline(t *testing.T) {
	b, _ := newBreaker(t, breaker.Config{FailureRate: 0.5, WindowSize: 100})
	pass := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error { return next.Run(ctx) })
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	measure := func(g resilience.Guard) (pipeline, chain float64) {
		p, c := resilience.NewPipeline[int](g), resilience.NewChain(g)
		return testing.AllocsPerRun(200, func() { _, _ = p.Execute(ctx, fn) }),
			testing.AllocsPerRun(200, func() { _ = c.Run(ctx, func(context.Context) error { return nil }) })
	}
	passPipeline, passChain := measure(pass)
	breakerPipeline, breakerChain := measure(b)
	assert.Equal(t, passPipeline, breakerPipeline, "pipeline")
	assert.Equal(t, passChain, breakerChain, "chain")
}
