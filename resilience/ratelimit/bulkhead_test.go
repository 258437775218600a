package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

func TestNewBulkheadRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  ratelimit.BulkheadConfig
		want string
	}{
		{"zero concurrency", ratelimit.BulkheadConfig{}, "ratelimit: MaxConcurrent must be in [1, 2^31-1], got 0"},
		{"huge concurrency", ratelimit.BulkheadConfig{MaxConcurrent: 1 << 40}, "ratelimit: MaxConcurrent must be in [1, 2^31-1], got 1099511627776"},
		{"negative queue", ratelimit.BulkheadConfig{MaxConcurrent: 1, MaxQueue: -1}, "ratelimit: MaxQueue must be in [0, 2^31-1], got -1"},
		{"negative wait", ratelimit.BulkheadConfig{MaxConcurrent: 1, MaxWait: -time.Second}, "ratelimit: MaxWait must not be negative, got -1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ratelimit.NewBulkheadWithConfig(tt.cfg)
			assert.Nil(t, b)
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestBulkheadTryAcquire(t *testing.T) {
	var events []resilience.Event
	b, err := ratelimit.NewBulkheadWithConfig(ratelimit.BulkheadConfig{
		MaxConcurrent: 2, Name: "bank",
		Listeners: resilience.Listeners{func(e resilience.Event) { events = append(events, e) }},
	})
	require.NoError(t, err)
	p1, ok1 := b.TryAcquire()
	p2, ok2 := b.TryAcquire()
	_, ok3 := b.TryAcquire()
	assert.True(t, ok1)
	assert.True(t, ok2)
	assert.False(t, ok3)
	assert.Equal(t, ratelimit.BulkheadSnapshot{Name: "bank", MaxConcurrent: 2, InFlight: 2, Rejected: 1}, b.Snapshot())
	p1.Release()
	p2.Release()
	p2.Release()                 // one release too many must not wrap the count
	ratelimit.Permit{}.Release() // the zero permit does nothing
	assert.Zero(t, b.Snapshot().InFlight)
	_, err = b.Acquire(context.Background())
	require.NoError(t, err)
	_, err = b.Acquire(context.Background())
	require.NoError(t, err)
	_, err = b.Acquire(context.Background())
	assert.True(t, resilience.IsRejected(err))
	assert.ErrorIs(t, err, ratelimit.ErrBulkheadFull)
	assert.EqualError(t, err, `ratelimit: bulkhead full (name "bank")`)
	require.Len(t, events, 2, "one event per refusal")
	assert.Equal(t, resilience.EventRejection, events[1].Kind)
	assert.Equal(t, "bulkhead", events[1].Policy)
}

// TestBulkheadQueueIsFIFO: waiters queued in order get slots in order, a
// newcomer cannot overtake them, and a full queue refuses at once.
func TestBulkheadQueueIsFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := ratelimit.NewBulkheadWithConfig(ratelimit.BulkheadConfig{MaxConcurrent: 1, MaxQueue: 3})
		require.NoError(t, err)
		held, err := b.Acquire(t.Context())
		require.NoError(t, err)
		order := make(chan int, 3)
		for i := 1; i <= 3; i++ {
			go func() {
				p, err := b.Acquire(t.Context())
				if err != nil {
					order <- -i
					return
				}
				order <- i
				p.Release()
			}()
			synctest.Wait() // i is queued before i+1 starts
		}
		assert.Equal(t, 3, b.Snapshot().Queued)
		_, ok := b.TryAcquire()
		assert.False(t, ok, "a newcomer must not overtake the queue")
		start := time.Now()
		_, err = b.Acquire(t.Context())
		assert.ErrorIs(t, err, ratelimit.ErrBulkheadFull)
		assert.Zero(t, time.Since(start), "a full queue refuses at once")

		held.Release()
		assert.Equal(t, []int{1, 2, 3}, []int{<-order, <-order, <-order})
		s := b.Snapshot()
		assert.Equal(t, 0, s.InFlight)
		assert.Equal(t, 0, s.Queued)
		assert.Equal(t, uint64(3), s.Waited)
	})
}

func TestBulkheadQueuedCallersTimeOutOnSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := ratelimit.NewBulkheadWithConfig(ratelimit.BulkheadConfig{
			MaxConcurrent: 1, MaxQueue: 2, MaxWait: 100 * time.Millisecond, Name: "fx"})
		require.NoError(t, err)
		held, err := b.Acquire(t.Context())
		require.NoError(t, err)
		start := time.Now()
		type result struct {
			err     error
			elapsed time.Duration
		}
		results := make(chan result, 2)
		for i := range 2 {
			go func() {
				_, err := b.Acquire(t.Context())
				results <- result{err, time.Since(start)}
			}()
			if i == 0 {
				time.Sleep(30 * time.Millisecond) // synctest: fake time
			}
		}
		r1, r2 := <-results, <-results
		for i, r := range []result{r1, r2} {
			assert.ErrorIs(t, r.err, ratelimit.ErrBulkheadFull, "waiter %d", i)
			assert.True(t, resilience.IsRejected(r.err))
			assert.Equal(t, time.Duration(i)*30*time.Millisecond+100*time.Millisecond, r.elapsed, "waiter %d", i)
		}
		assert.EqualError(t, r1.err, `ratelimit: waited 100ms in the bulkhead queue: ratelimit: bulkhead full (name "fx")`)
		s := b.Snapshot()
		assert.Equal(t, uint64(2), s.TimedOut)
		assert.Equal(t, 0, s.Queued)
		assert.Equal(t, 1, s.InFlight)
		held.Release()
		assert.Equal(t, 0, b.Snapshot().InFlight)
	})
}

func TestBulkheadCancelledWaiterLeavesTheQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := ratelimit.NewBulkheadWithConfig(ratelimit.BulkheadConfig{MaxConcurrent: 1, MaxQueue: 2})
		require.NoError(t, err)
		held, err := b.Acquire(t.Context())
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() {
			_, err := b.Acquire(ctx)
			done <- err
		}()
		synctest.Wait()
		start := time.Now()
		time.Sleep(10 * time.Millisecond) // synctest: fake time
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
		assert.Equal(t, 10*time.Millisecond, time.Since(start))
		s := b.Snapshot()
		assert.Equal(t, 0, s.Queued)
		assert.Equal(t, uint64(1), s.Abandoned)
		held.Release()
		_, ok := b.TryAcquire()
		assert.True(t, ok, "the slot must be free again, not handed to the departed waiter")

		done2, cancel2 := context.WithCancel(context.Background())
		cancel2()
		_, err = b.Acquire(done2)
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestBulkheadPolicyReleasesOnReturnAndPanic(t *testing.T) {
	b, err := ratelimit.NewBulkhead(1)
	require.NoError(t, err)
	p, err := ratelimit.NewBulkheadPolicy[int](b)
	require.NoError(t, err)
	var inside ratelimit.BulkheadSnapshot
	v, err := p.Wrap(func(context.Context) (int, error) { inside = b.Snapshot(); return 3, nil })(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 3, v)
	assert.Equal(t, 1, inside.InFlight)
	assert.Panics(t, func() {
		_, _ = p.Wrap(func(context.Context) (int, error) { panic("boom") })(context.Background())
	})
	assert.Equal(t, 0, b.Snapshot().InFlight, "a panic must release the slot")

	held, _ := b.TryAcquire()
	called := false
	_, err = p.Wrap(func(context.Context) (int, error) { called = true; return 0, nil })(context.Background())
	assert.False(t, called)
	assert.True(t, resilience.IsRejected(err))
	assert.True(t, errors.Is(err, ratelimit.ErrBulkheadFull))
	held.Release()

	_, err = ratelimit.NewBulkheadPolicy[int](nil)
	assert.ErrorIs(t, err, ratelimit.ErrNilLimiter)
}
