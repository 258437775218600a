package bulkhead_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/bulkhead"
)

// TestPermitDoubleReleaseFreesOneSlot (issue 12 item 9): releasing a permit
// twice, directly or through a copy, frees one slot only, so the bulkhead
// never admits more than MaxConcurrent. The permits issued after the double
// release reuse pooled tickets, which old copies must not match.
func TestPermitDoubleReleaseFreesOneSlot(t *testing.T) {
	b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 2})
	require.NoError(t, err)
	a, ok := b.TryAcquire()
	require.True(t, ok)
	c, ok := b.TryAcquire()
	require.True(t, ok)
	copied := a
	a.Release()
	a.Release()
	copied.Release()
	assert.Equal(t, 1, b.Snapshot().InFlight, "c still holds its slot")

	again, ok := b.TryAcquire()
	require.True(t, ok)
	copied.Release() // a stale copy must not free the new holder's slot
	a.Release()
	_, ok = b.TryAcquire()
	assert.False(t, ok, "two slots are held: a third admission would over-admit")
	assert.Equal(t, 2, b.Snapshot().InFlight)
	again.Release()
	c.Release()
	assert.Equal(t, 0, b.Snapshot().InFlight)
}

// TestPermitDoubleReleaseDoesNotGrantTwoWaiters: with callers queued, a
// second release would hand a second slot to the next waiter.
func TestPermitDoubleReleaseDoesNotGrantTwoWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueue: 2})
		require.NoError(t, err)
		p, err := b.Acquire(t.Context())
		require.NoError(t, err)
		granted := make(chan bulkhead.Permit, 2)
		for range 2 {
			go func() {
				if q, err := b.Acquire(t.Context()); err == nil {
					granted <- q
				}
			}()
		}
		synctest.Wait()
		require.Equal(t, 2, b.Snapshot().Queued)
		p.Release()
		p.Release()
		synctest.Wait()
		assert.Len(t, granted, 1, "one release, one waiter served")
		assert.Equal(t, bulkhead.Snapshot{MaxConcurrent: 1, MaxQueue: 2, InFlight: 1, Queued: 1, Waited: 2}, b.Snapshot())
		(<-granted).Release()
		(<-granted).Release()
	})
}

// TestPermitConcurrentReleasesOfCopies: copies released from many
// goroutines at once free one slot.
func TestPermitConcurrentReleasesOfCopies(t *testing.T) {
	b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 2})
	require.NoError(t, err)
	_, ok := b.TryAcquire()
	require.True(t, ok)
	p, ok := b.TryAcquire()
	require.True(t, ok)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func(c bulkhead.Permit) { defer wg.Done(); c.Release() }(p)
	}
	wg.Wait()
	assert.Equal(t, 1, b.Snapshot().InFlight)
}

// TestAdaptivePermitDoubleDoneCountsOnce (issue 12 item 9): a second Done,
// directly or through a copy, neither frees another slot nor counts
// another outcome.
func TestAdaptivePermitDoubleDoneCountsOnce(t *testing.T) {
	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Initial: 2, Max: 2, BackoffPercent: 50})
	require.NoError(t, err)
	p, err := a.Acquire()
	require.NoError(t, err)
	q, err := a.Acquire()
	require.NoError(t, err)
	copied := p
	p.Done(resilience.Ignored)
	p.Done(resilience.Failure)
	copied.Done(resilience.Failure)
	copied.DoneErr(context.Background(), context.DeadlineExceeded)
	assert.Equal(t, bulkhead.AdaptiveSnapshot{Limit: 2, Min: 1, Max: 2, InFlight: 1}, a.Snapshot(),
		"one slot freed, no drop counted")

	r, err := a.Acquire()
	require.NoError(t, err)
	copied.Done(resilience.Ignored) // must not free r's slot
	_, err = a.Acquire()
	assert.ErrorIs(t, err, bulkhead.ErrOverLimit, "two in flight at limit 2")
	r.Done(resilience.Success)
	q.Done(resilience.Success)
	assert.Zero(t, a.Snapshot().InFlight)
}
