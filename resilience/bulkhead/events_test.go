package bulkhead_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/bulkhead"
)

// TestStateChangeListenersSeeNoPerCallEvents: a listener subscribed to
// state and limit changes only receives the adaptive limit's changes, in
// order, and no rejection of either type.
func TestStateChangeListenersSeeNoPerCallEvents(t *testing.T) {
	var got []resilience.Event
	only := resilience.OnStateChange(func(e resilience.Event) { got = append(got, e) })
	b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, Listeners: resilience.Listeners{only}})
	require.NoError(t, err)
	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Initial: 2, Max: 2, BackoffPercent: 50, Name: "bank",
		Listeners: resilience.Listeners{only}})
	require.NoError(t, err)

	p, _ := b.TryAcquire()
	_, ok := b.TryAcquire()
	require.False(t, ok)
	p.Release()
	q, _ := a.Acquire()
	r, _ := a.Acquire()
	_, err = a.Acquire()
	require.ErrorIs(t, err, bulkhead.ErrOverLimit)
	q.Done(resilience.Failure)
	r.Done(resilience.Failure)
	assert.Equal(t, uint64(1), b.Snapshot().Rejected, "counted even though nobody listens")
	assert.Equal(t, uint64(1), a.Snapshot().Rejected)

	require.Len(t, got, 1, "2 -> 1 only: the second failure finds the limit at Min")
	assert.Equal(t, resilience.EventLimitChange, got[0].Kind)
	assert.Equal(t, "adaptive", got[0].Policy)
	assert.Equal(t, "bank", got[0].Name)
	assert.Equal(t, "limit 2 -> 1", got[0].Reason)
	assert.Equal(t, bulkhead.AdaptiveSnapshot{Name: "bank", Limit: 1, Min: 1, Max: 2, InFlight: 1, Rejected: 1, Drops: 1},
		got[0].Detail, "the snapshot at the change")
}

// TestListenerMayCallBackIntoTheLimit: limit changes are delivered outside
// the limit's lock.
func TestListenerMayCallBackIntoTheLimit(t *testing.T) {
	var a *bulkhead.Adaptive
	var seen []int
	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Initial: 4, BackoffPercent: 50,
		Listeners: resilience.Listeners{resilience.OnStateChange(func(resilience.Event) {
			seen = append(seen, a.Snapshot().Limit) // would deadlock under the lock
		})}})
	require.NoError(t, err)
	_ = resilience.Run(context.Background(), func(context.Context) error { return context.DeadlineExceeded }, a)
	assert.Equal(t, []int{2}, seen)
}
