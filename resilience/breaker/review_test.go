package breaker_test

import (
	"context"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Regression tests for the second review.

// R1: the time window tagged slots with the bucket number's low 32 bits, so
// after 2^31 buckets (~25 days with 1ms buckets) it stopped counting calls
// and the rate rules never fired.
func TestTimeWindowKeepsCountingAfterWeeksOfUptime(t *testing.T) {
	for _, uptime := range []time.Duration{
		time.Duration(1<<31) * time.Millisecond, // the first half-cycle where it broke
		time.Duration(3<<31)*time.Millisecond + 500*time.Millisecond,
	} {
		clk := clock.NewMock()
		b, err := breaker.New(breaker.Config{FailureRate: 0.5, MinimumCalls: 5,
			WindowDuration: time.Second, WindowBuckets: 1000, OpenWait: time.Second, Clock: clk})
		require.NoError(t, err)
		clk.Set(clk.Now().Add(uptime))
		for range 20 {
			p, err := b.Allow()
			if err != nil {
				break
			}
			p.Done(resilience.Failure)
		}
		assert.Equal(t, breaker.Open, b.Snapshot().State, "after %s of uptime", uptime)
	}
}

func TestTimeWindowForgetsSlotsLeftIdleForLaps(t *testing.T) {
	clk := clock.NewMock()
	b, _ := breaker.New(breaker.Config{FailureRate: 0.5, MinimumCalls: 4,
		WindowDuration: 100 * time.Millisecond, WindowBuckets: 10, Clock: clk})
	for range 10 { // one success in every slot
		p, _ := b.Allow()
		p.Done(resilience.Success)
		clk.Set(clk.Now().Add(10 * time.Millisecond))
	}
	clk.Set(clk.Now().Add(time.Duration(1<<31) * 10 * time.Millisecond)) // many laps idle
	p, _ := b.Allow()
	p.Done(resilience.Success)
	assert.Equal(t, uint64(1), b.Snapshot().WindowCalls, "old laps are not in the window")
}

// R2: a huge WindowBuckets made New panic in make instead of refusing it.
func TestHugeWindowBucketsIsRefused(t *testing.T) {
	assert.NotPanics(t, func() {
		_, err := breaker.New(breaker.Config{FailureRate: 0.5, WindowDuration: time.Duration(1 << 62), WindowBuckets: 1 << 61})
		assert.ErrorContains(t, err, "WindowBuckets must be in [0, 65536]")
	})
}

type doubling struct{}

func (doubling) Delay(_ int, prev time.Duration) time.Duration { return 2 * prev }

// R3: a health hold restarted the open-wait growth although the breaker
// never closed, so a flapping dependency never backed off.
func TestHoldKeepsTheOpenWaitGrowing(t *testing.T) {
	clk := clock.NewMock()
	b, _ := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Second,
		MaxOpenWait: time.Hour, OpenBackoff: doubling{}, Clock: clk})
	fail := func() {
		p, err := b.Allow()
		require.NoError(t, err)
		p.Done(resilience.Failure)
	}
	fail()
	clk.Add(time.Second)
	fail() // re-open #1: 2s
	require.Equal(t, 2*time.Second, b.Snapshot().OpenWait)
	require.True(t, b.HoldOpen("health: down", time.Second))
	require.True(t, b.Release("health: up", false))
	fail()
	assert.Equal(t, 4*time.Second, b.Snapshot().OpenWait, "never closed: the sequence goes on")

	b.Reset()
	fail()
	assert.Equal(t, time.Second, b.Snapshot().OpenWait, "closing restarts it")
}

// R4: a classifier that panicked in half-open left its probe slot taken.
func TestPanickingClassifierFreesItsProbeSlot(t *testing.T) {
	clk := clock.NewMock()
	b, _ := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Second, Clock: clk})
	p, _ := b.Allow()
	p.Done(resilience.Failure)
	clk.Add(time.Second)
	pol := breaker.Policy[int](b, func(_ context.Context, v int, _ error) resilience.Outcome {
		if v == 42 {
			panic("classifier bug")
		}
		return resilience.Unclassified
	})
	call := pol.Wrap(func(context.Context) (int, error) { return 42, nil })
	assert.Panics(t, func() { _, _ = call(context.Background()) })
	assert.Equal(t, breaker.Open, b.State(), "the panicking probe counts as a failure, and frees its slot")
	clk.Add(2 * time.Second)
	_, err := b.Allow()
	assert.NoError(t, err)
}

// R5: the default MinimumCalls (10) made a valid small window fail New.
func TestDefaultMinimumCallsFitsASmallWindow(t *testing.T) {
	b, err := breaker.New(breaker.Config{FailureRate: 0.5, WindowSize: 4, Clock: clock.NewMock()})
	require.NoError(t, err)
	for range 4 {
		p, _ := b.Allow()
		p.Done(resilience.Failure)
	}
	assert.Equal(t, breaker.Open, b.State())
}
