package breaker

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
)

// The real clock's open wait: a timer lets rejections skip the clock until
// the wait is nearly over, and the clock still decides its exact end.

func openRealClock(t *testing.T, wait time.Duration) *Breaker {
	t.Helper()
	b, err := New(Config{ConsecutiveFailures: 1, OpenWait: wait})
	require.NoError(t, err)
	p, err := b.Allow()
	require.NoError(t, err)
	p.Done(resilience.Failure)
	require.Equal(t, Open, b.cur.Load().state)
	return b
}

// In a synctest bubble, fake time cannot pass the timer's instant before
// its function has run, so the transition is exact to the nanosecond.
func TestOpenWaitEndsExactlyWithTheTimerInABubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const wait = time.Second
		b := openRealClock(t, wait)
		ph := b.cur.Load()
		assert.False(t, ph.near.Load(), "rejections skip the clock at first")
		_, err := b.Allow()
		require.ErrorIs(t, err, ErrOpen)

		time.Sleep(wait - openTimerLead - 1)
		synctest.Wait()
		assert.False(t, ph.near.Load(), "the timer fires openTimerLead early, not earlier")
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		assert.True(t, ph.near.Load(), "the timer fired")
		_, err = b.Allow()
		require.ErrorIs(t, err, ErrOpen, "near the end, the clock says not yet")

		time.Sleep(openTimerLead - 1)
		_, err = b.Allow()
		require.ErrorIs(t, err, ErrOpen, "1ns before the end")
		time.Sleep(time.Nanosecond)
		p, err := b.Allow()
		require.NoError(t, err, "the wait is over to the nanosecond")
		assert.Equal(t, HalfOpen, b.cur.Load().state)
		p.Done(resilience.Success)
		assert.Equal(t, Closed, b.State())
		assert.Equal(t, uint64(3), b.Snapshot().Rejected)
	})
}

// A wait no longer than the lead needs no timer: the clock decides from
// the start. So does an injected clock, whose timers a test drives.
func TestShortWaitsAndInjectedClocksReadTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := openRealClock(t, openTimerLead)
		assert.True(t, b.cur.Load().near.Load())
		time.Sleep(openTimerLead)
		_, err := b.Allow()
		require.NoError(t, err)
	})
	b, _ := newMockBreaker(t, Config{ConsecutiveFailures: 1})
	p, err := b.Allow()
	require.NoError(t, err)
	p.Done(resilience.Failure)
	ph := b.cur.Load()
	require.Equal(t, Open, ph.state)
	assert.True(t, ph.near.Load())
}

// A phase that ends before its wait does (a health release, a reset, a
// person) leaves its timer to fire, and the timer only ever marks its own
// phase: an opening that follows keeps skipping the clock until its own
// timer fires.
func TestATimerOutlivingItsPhaseMarksOnlyItsOwn(t *testing.T) {
	for _, tt := range []struct {
		name string
		end  func(b *Breaker)
	}{
		{"release", func(b *Breaker) { b.Release("health", false) }},
		{"reset", func(b *Breaker) { b.Reset() }},
		{"force open", func(b *Breaker) { b.ForceOpen() }},
		{"hold", func(b *Breaker) { b.HoldOpen("health", time.Second) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := openRealClock(t, time.Minute)
				first := b.cur.Load()
				time.Sleep(30 * time.Second)
				tt.end(b)
				b.Reset()
				p, err := b.Allow()
				require.NoError(t, err)
				p.Done(resilience.Failure) // opens again, a minute from now
				second := b.cur.Load()
				require.Equal(t, Open, second.state)

				time.Sleep(30 * time.Second) // the first timer fires
				synctest.Wait()
				assert.True(t, first.near.Load())
				assert.False(t, second.near.Load(), "the new opening has 30s to go")
				_, err = b.Allow()
				assert.ErrorIs(t, err, ErrOpen)
			})
		})
	}
}

// A breaker that opened in a test's synctest bubble goes on working after
// the bubble ends: nothing touches the timer armed inside it (stopping it
// from outside would be a fatal error).
func TestBreakerOpenedInABubbleWorksAfterIt(t *testing.T) {
	var b *Breaker
	synctest.Test(t, func(t *testing.T) { b = openRealClock(t, time.Minute) })
	b.Release("health", false)
	p, err := b.Allow()
	require.NoError(t, err)
	p.Done(resilience.Success)
	b.Reset()
	assert.Equal(t, Closed, b.State())
}

// The coarse clock: fresh when it starts, one resolution old at most
// while read, stopped after a tick with no read, fresh again on the next.
func TestCoarseClockTicksOnlyWhileRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		c := &coarseClock{since: func() int64 { return int64(time.Since(start)) }, every: time.Millisecond}
		assert.Equal(t, int64(0), c.now())
		assert.True(t, c.running.Load())

		time.Sleep(time.Millisecond)
		synctest.Wait()
		assert.Equal(t, int64(time.Millisecond), c.now(), "a tick advanced it")
		time.Sleep(time.Millisecond / 2)
		assert.Equal(t, int64(time.Millisecond), c.now(), "between ticks it stands still")

		time.Sleep(3 * time.Millisecond) // a tick with a read since, then one without
		synctest.Wait()
		assert.False(t, c.running.Load(), "an idle tick stops it")
		time.Sleep(time.Hour)
		assert.Equal(t, int64(time.Hour+4500*time.Microsecond), c.now(), "the first read after idling is fresh")
		assert.True(t, c.running.Load())
		time.Sleep(10 * time.Millisecond) // stops again: no timer outlives the bubble's work
		synctest.Wait()
		assert.False(t, c.running.Load())
	})
}

// A breaker on the coarse clock counts every call of its time window and
// still opens on its failure rate.
func TestCoarseClockTimeWindow(t *testing.T) {
	b, err := New(Config{FailureRate: 0.5, MinimumCalls: 10, WindowDuration: time.Minute, CoarseClock: true})
	require.NoError(t, err)
	require.True(t, b.coarse)
	for range 6 {
		p, err := b.Allow()
		require.NoError(t, err)
		p.Done(resilience.Success)
	}
	assert.Equal(t, uint64(6), b.Snapshot().WindowCalls)
	for range 6 {
		p, err := b.Allow()
		require.NoError(t, err)
		p.Done(resilience.Failure)
	}
	assert.Equal(t, Open, b.State(), "6 failures in 12 calls")

	mocked, _ := newMockBreaker(t, Config{CoarseClock: true})
	assert.False(t, mocked.coarse, "an injected clock wins")
}

func newMockBreaker(t *testing.T, cfg Config) (*Breaker, *clock.Mock) {
	t.Helper()
	clk := clock.NewMock()
	cfg.Clock = clk
	b, err := New(cfg)
	require.NoError(t, err)
	return b, clk
}
