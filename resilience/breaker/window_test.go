package breaker_test

import (
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// Count and time windows.

func TestFailureRateOverACountWindow(t *testing.T) {
	b, _ := newBreaker(t, breaker.Config{FailureRate: 0.5, MinimumCalls: 4, WindowSize: 10})
	for _, o := range []resilience.Outcome{resilience.Success, resilience.Failure, resilience.Success} {
		call(b, o)
	}
	s := b.Snapshot()
	require.Equal(t, breaker.Closed, s.State, "3 calls: below MinimumCalls")
	assert.Equal(t, uint64(3), s.WindowCalls)
	assert.InDelta(t, 1.0/3, s.FailureRate, 1e-9)
	call(b, resilience.Failure)
	assert.Equal(t, breaker.Open, b.State(), "2 failures in 4 calls")
}

func TestSlowCallRateOpens(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{SlowCallRate: 0.5, SlowCallDuration: time.Second, MinimumCalls: 2, WindowSize: 10})
	call(b, resilience.Success)
	p := allow(t, b)
	clk.Add(time.Second)
	p.Done(resilience.Success)
	s := b.Snapshot()
	assert.Equal(t, breaker.Open, s.State, "a slow success is evidence too")
	assert.Equal(t, uint64(1), s.Slow)
	assert.Equal(t, uint64(2), s.Successes)
}

// rubyist/circuitbreaker #36: failures from long ago must leave a time
// window that sat idle.
func TestIdleTimeWindowForgets(t *testing.T) {
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

// The time window once tagged slots with the bucket number's low 32 bits,
// so after 2^31 buckets (~25 days with 1ms buckets) it stopped counting
// calls and the rate rules never fired.
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
	b, err := breaker.New(breaker.Config{FailureRate: 0.5, MinimumCalls: 4,
		WindowDuration: 100 * time.Millisecond, WindowBuckets: 10, Clock: clk})
	require.NoError(t, err)
	for range 10 { // one success in every slot
		call(b, resilience.Success)
		clk.Set(clk.Now().Add(10 * time.Millisecond))
	}
	require.Equal(t, uint64(9), b.Snapshot().WindowCalls, "100ms on, the first call has left the window")
	clk.Set(clk.Now().Add(time.Duration(1<<31) * 10 * time.Millisecond)) // many laps idle
	call(b, resilience.Success)
	assert.Equal(t, uint64(1), b.Snapshot().WindowCalls, "old laps are not in the window")
}
