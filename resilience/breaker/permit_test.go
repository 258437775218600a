package breaker_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

// Permits and half-open probes.

func TestPermitDoneIsIdempotentAndZeroPermitIsInert(t *testing.T) {
	b, _ := newBreaker(t, breaker.Config{})
	var zero breaker.Permit
	zero.Done(resilience.Failure)
	zero.DoneErr(context.Background(), errors.New("x"))
	p := allow(t, b)
	p.Done(resilience.Success)
	p.Done(resilience.Failure)
	s := b.Snapshot()
	assert.Equal(t, uint64(1), s.Successes)
	assert.Equal(t, uint64(0), s.Failures)
}

func TestIgnoredProbeFreesItsSlot(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Second})
	call(b, resilience.Failure)
	clk.Add(time.Second)

	probe := allow(t, b)
	_, err := b.Allow()
	require.ErrorIs(t, err, breaker.ErrHalfOpenFull)
	probe.Done(resilience.Ignored)
	assert.Equal(t, 0, b.Snapshot().ProbesInFlight, "an ignored probe frees its slot")
	_ = allow(t, b)
}

// Issue 12 item 9, "copied probe permits count twice": they do not. A copy
// of a half-open permit shares its record: whichever reports first
// releases the slot and is counted, in the totals, the probe successes and
// the events, and the other does nothing at all.
func TestCopiedProbePermitReleasesAndCountsOnce(t *testing.T) {
	for _, second := range []resilience.Outcome{resilience.Success, resilience.Failure, resilience.Ignored} {
		t.Run("then "+second.String(), func(t *testing.T) {
			rec := resiliencetest.NewRecorder()
			b, clk := newBreaker(t, breaker.Config{
				ConsecutiveFailures: 1, OpenWait: time.Second, SuccessesToClose: 2, MaxProbes: 2,
				Listeners: resilience.Listeners{rec.Listener()},
			})
			call(b, resilience.Failure)
			clk.Add(time.Second)
			before := b.Snapshot()
			rec.Reset()

			probe := allow(t, b)
			copied := probe
			probe.Done(resilience.Success)
			copied.Done(second)

			s := b.Snapshot()
			assert.Equal(t, breaker.HalfOpen, s.State, "one success of two needed")
			assert.Equal(t, 1, s.ProbeSuccesses)
			assert.Equal(t, 0, s.ProbesInFlight, "the slot is released once")
			assert.Equal(t, before.Successes+1, s.Successes, "counted once")
			assert.Equal(t, before.Failures, s.Failures)
			assert.Equal(t, before.Ignored, s.Ignored)
			assert.Equal(t, 1, rec.Count(resilience.EventOutcome), "one outcome event")
			assert.Empty(t, rec.StateChanges())

			// Two slots are free: a released copy does not free a third.
			_ = allow(t, b)
			_ = allow(t, b)
			_, err := b.Allow()
			assert.ErrorIs(t, err, breaker.ErrHalfOpenFull)
		})
	}
}

// resilience4j #903: a probe that never reports back must not keep the
// breaker half-open forever.
func TestLostProbeDoesNotWedgeHalfOpen(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{
		ConsecutiveFailures: 1, OpenWait: time.Second, MaxHalfOpen: 5 * time.Second,
	})
	p := allow(t, b)
	p.Done(resilience.Failure)
	clk.Add(time.Second)
	lost := allow(t, b)
	_, err := b.Allow()
	require.ErrorIs(t, err, breaker.ErrHalfOpenFull)

	clk.Add(5 * time.Second)
	_, err = b.Allow()
	require.ErrorIs(t, err, breaker.ErrOpen, "half-open gave up and opened again")
	clk.Add(time.Second)
	lost.Done(resilience.Success) // reports late: an earlier generation
	assert.Equal(t, 0, b.Snapshot().ProbeSuccesses)
	probe := allow(t, b)
	probe.Done(resilience.Success)
	assert.Equal(t, breaker.Closed, b.State())
}

// gobreaker #53: a stampede on a half-open breaker admits no more than
// MaxProbes calls.
func TestHalfOpenStampede(t *testing.T) {
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

func TestProbesCloseAfterEnoughSuccessesAndReopenOnAFailure(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Second, MaxProbes: 2, SuccessesToClose: 2})
	call(b, resilience.Failure)
	clk.Add(time.Second)
	first, second := allow(t, b), allow(t, b)
	first.Done(resilience.Success)
	require.Equal(t, breaker.HalfOpen, b.State())
	second.Done(resilience.Success)
	require.Equal(t, breaker.Closed, b.State())

	call(b, resilience.Failure)
	clk.Add(time.Second)
	call(b, resilience.Failure)
	assert.Equal(t, breaker.Open, b.State(), "a failed probe opens the breaker again")
}
