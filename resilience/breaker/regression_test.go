package breaker_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// Bugs that peer libraries shipped, one test each.

func newBreaker(t *testing.T, cfg breaker.Config) (*breaker.Breaker, *clock.Mock) {
	t.Helper()
	clk := clock.NewMock()
	cfg.Clock = clk
	b, err := breaker.New(cfg)
	require.NoError(t, err)
	return b, clk
}

func allow(t *testing.T, b *breaker.Breaker) breaker.Permit {
	t.Helper()
	p, err := b.Allow()
	require.NoError(t, err)
	return p
}

// hystrix-go: a success of a call admitted before the breaker opened, that
// reports late, must not close it — neither while open nor half-open.
func TestRegressionLateSuccessDoesNotClose(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Second})
	slowCall := allow(t, b)
	otherSlowCall := allow(t, b)
	failing := allow(t, b)
	failing.Done(resilience.Failure)
	require.Equal(t, breaker.Open, b.State())

	slowCall.Done(resilience.Success)
	assert.Equal(t, breaker.Open, b.State(), "late success while open")

	clk.Add(time.Second)
	require.Equal(t, breaker.HalfOpen, b.State())
	otherSlowCall.Done(resilience.Success)
	s := b.Snapshot()
	assert.Equal(t, breaker.HalfOpen, s.State, "late success while half-open")
	assert.Equal(t, 0, s.ProbeSuccesses)
	assert.Equal(t, uint64(2), s.Successes, "late successes are still totalled")
}

// gobreaker #37: a listener that reads the breaker must not deadlock.
func TestRegressionListenerCallingStateDoesNotDeadlock(t *testing.T) {
	var (
		b    *breaker.Breaker
		seen []string
	)
	listener := func(e resilience.Event) {
		if e.Kind == resilience.EventStateChange {
			seen = append(seen, e.To+"/"+b.State().String()+"/"+b.Snapshot().State.String())
		}
	}
	b, _ = newBreaker(t, breaker.Config{ConsecutiveFailures: 1, Listeners: resilience.Listeners{listener}})
	p := allow(t, b)
	p.Done(resilience.Failure)
	b.Reset()
	assert.Equal(t, []string{"open/open/open", "closed/closed/closed"}, seen)
}

// cockroachdb #35433: the caller's own cancellation is not the
// dependency's failure and must not trip the breaker.
func TestRegressionCallerCancellationDoesNotTrip(t *testing.T) {
	b, _ := newBreaker(t, breaker.Config{ConsecutiveFailures: 1})
	call := breaker.Policy[int](b).Wrap(func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	withCause, cancelCause := context.WithCancelCause(context.Background())
	cancelCause(errors.New("client went away"))
	for _, ctx := range []context.Context{cancelled, withCause} {
		_, err := call(ctx)
		require.ErrorIs(t, err, context.Canceled)
	}
	s := b.Snapshot()
	assert.Equal(t, breaker.Closed, s.State)
	assert.Equal(t, uint64(2), s.Ignored)
	assert.Equal(t, uint64(0), s.Failures)
}

// resilience4j #903: a probe that never reports back must not keep the
// breaker half-open forever.
func TestRegressionLostProbeDoesNotWedgeHalfOpen(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{
		ConsecutiveFailures: 1, OpenWait: time.Second, MaxHalfOpen: 5 * time.Second,
	})
	p := allow(t, b)
	p.Done(resilience.Failure)
	clk.Add(time.Second)
	_ = allow(t, b) // the lost probe
	_, err := b.Allow()
	require.ErrorIs(t, err, breaker.ErrHalfOpenFull)

	clk.Add(5 * time.Second)
	_, err = b.Allow()
	require.ErrorIs(t, err, breaker.ErrOpen, "half-open gave up and opened again")
	clk.Add(time.Second)
	probe := allow(t, b)
	probe.Done(resilience.Success)
	assert.Equal(t, breaker.Closed, b.State())
}

// rubyist/circuitbreaker #36: failures from long ago must leave a time
// window that sat idle.
func TestRegressionIdleTimeWindowForgets(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{
		FailureRate: 0.5, MinimumCalls: 5, WindowDuration: 10 * time.Second,
	})
	for range 4 {
		p := allow(t, b)
		p.Done(resilience.Failure)
	}
	require.Equal(t, uint64(4), b.Snapshot().WindowCalls)
	clk.Add(time.Hour)
	assert.Equal(t, uint64(0), b.Snapshot().WindowCalls)
	p := allow(t, b)
	p.Done(resilience.Failure)
	assert.Equal(t, breaker.Closed, b.State(), "a fifth failure an hour later must not trip")
}

// gobreaker #53: a stampede on a half-open breaker admits no more than
// MaxProbes calls.
func TestRegressionHalfOpenStampede(t *testing.T) {
	const goroutines, maxProbes = 64, 3
	b, clk := newBreaker(t, breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Second, MaxProbes: maxProbes})
	p := allow(t, b)
	p.Done(resilience.Failure)
	clk.Add(time.Second)

	var (
		admitted, full atomic.Int64
		start          = make(chan struct{})
		wg             sync.WaitGroup
	)
	for range goroutines {
		wg.Go(func() {
			<-start
			_, err := b.Allow()
			switch {
			case err == nil:
				admitted.Add(1)
			case errors.Is(err, breaker.ErrHalfOpenFull):
				full.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int64(maxProbes), admitted.Load())
	assert.Equal(t, int64(goroutines-maxProbes), full.Load())
}
