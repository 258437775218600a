package ratelimit_test

import (
	"context"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Regression tests for the third review.

// R1: with an unbounded MaxWait, waiters could push a very slow limiter's
// schedule past the int64 range, onto its internal "frozen" marker, and
// every later call spun forever.
func TestHugeMaxWaitCannotWedgeTheLimiter(t *testing.T) {
	mock := clock.NewMock()
	l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Every(1 << 59), Burst: 1, Clock: mock})
	require.NoError(t, err)
	p, err := ratelimit.NewPolicy[int](l, math.MaxInt64)
	require.NoError(t, err)
	call := p.Wrap(func(context.Context) (int, error) { return 1, nil })

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = call(ctx) }()
	}
	for i := 0; i < 1_000_000 && l.Snapshot().Tokens > -1; i++ {
		runtime.Gosched() // until waiters have queued
	}
	done := make(chan bool)
	go func() { done <- l.Allow() }()
	assert.False(t, <-done, "Allow answers (it used to spin forever)")
	cancel()
	wg.Wait()
}

// R2: a large adaptive limit collapsed to a tenth on one drop, because
// limit*backoff overflowed.
func TestAdaptiveBackoffOfALargeLimit(t *testing.T) {
	a, err := ratelimit.NewAdaptive(ratelimit.AdaptiveConfig{Initial: math.MaxInt / 10, Max: math.MaxInt, BackoffPercent: 90})
	require.NoError(t, err)
	p, err := a.Acquire()
	require.NoError(t, err)
	p.Done(resilience.Failure)
	assert.Equal(t, math.MaxInt/10/100*90+math.MaxInt/10%100*90/100, a.Snapshot().Limit)
}

// R3: a classifier that panicked left its slot taken for good.
func TestAdaptivePanickingClassifierFreesItsSlot(t *testing.T) {
	a, err := ratelimit.NewAdaptive(ratelimit.AdaptiveConfig{Initial: 1, Min: 1, Max: 1})
	require.NoError(t, err)
	p, err := ratelimit.NewAdaptivePolicy[int](a, func(context.Context, int, error) resilience.Outcome { panic("classifier bug") })
	require.NoError(t, err)
	call := p.Wrap(func(context.Context) (int, error) { return 1, nil })
	assert.Panics(t, func() { _, _ = call(context.Background()) })
	assert.Zero(t, a.Snapshot().InFlight, "the slot is back")
}

// K1: a call whose time went back (TakeAt with an earlier time, a mock clock
// stepping back) reported a negative RateLimit-Remaining. Each shard now
// acts at a non-decreasing time, which also keeps a key evicted as idle at
// a later time from being judged again at an earlier one.
func TestKeyedTimeGoingBackNeverReportsNegativeRemaining(t *testing.T) {
	k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.PerSecond(1), Burst: 1, MaxKeys: 16})
	require.NoError(t, err)
	t0 := time.Now() // TakeAt clamps times to decades around the limiter's creation
	d, _ := k.TakeAt(t0.Add(10*time.Second), "a", 1)
	require.True(t, d.Allowed)
	d, _ = k.TakeAt(t0, "a", 1)
	assert.False(t, d.Allowed, "the token was taken at the later time")
	assert.Equal(t, 0, d.Remaining)
	assert.Equal(t, time.Second, d.RetryAfter, "counted from the shard's latest time, not from the past")
}
