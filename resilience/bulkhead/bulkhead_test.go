package bulkhead_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name  string
		cfg   bulkhead.Config
		field string
		rule  string
		value any
	}{
		{"zero concurrency", bulkhead.Config{}, "MaxConcurrent", "must be at least 1", 0},
		{"huge concurrency", bulkhead.Config{MaxConcurrent: 1 << 40}, "MaxConcurrent", "must be at most 2147483647", 1 << 40},
		{"negative queue", bulkhead.Config{MaxConcurrent: 1, MaxQueue: -1}, "MaxQueue", "must not be negative", -1},
		{"huge queue", bulkhead.Config{MaxConcurrent: 1, MaxQueue: math.MaxInt32 + 1}, "MaxQueue", "must be at most 2147483647", math.MaxInt32 + 1},
		{"negative wait", bulkhead.Config{MaxConcurrent: 1, MaxWait: -time.Second}, "MaxWait", "must not be negative", -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name = "ledger"
			b, err := bulkhead.New(tt.cfg)
			assert.Nil(t, b)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, resilience.ConfigError{Component: "bulkhead", Name: "ledger", Field: tt.field, Rule: tt.rule, Value: tt.value}, *ce)
		})
	}
}

func TestTryAcquireAndAcquire(t *testing.T) {
	rec := resiliencetest.NewRecorder()
	b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 2, Name: "bank", Listeners: resilience.Listeners{rec.Listener()}})
	require.NoError(t, err)
	p1, ok1 := b.TryAcquire()
	p2, ok2 := b.TryAcquire()
	_, ok3 := b.TryAcquire()
	assert.True(t, ok1)
	assert.True(t, ok2)
	assert.False(t, ok3)
	assert.Equal(t, bulkhead.Snapshot{Name: "bank", MaxConcurrent: 2, InFlight: 2, Rejected: 1}, b.Snapshot())
	p1.Release()
	p2.Release()
	bulkhead.Permit{}.Release() // the zero permit does nothing
	assert.Zero(t, b.Snapshot().InFlight)
	_, err = b.Acquire(context.Background())
	require.NoError(t, err)
	_, err = b.Acquire(context.Background())
	require.NoError(t, err)
	_, err = b.Acquire(context.Background())
	assert.True(t, resilience.IsRejected(err))
	assert.ErrorIs(t, err, bulkhead.ErrFull)
	assert.EqualError(t, err, `bulkhead: full (name "bank")`)
	assert.Equal(t, []resilience.EventKind{resilience.EventRejection, resilience.EventRejection}, rec.Kinds(),
		"one event per refusal")
	assert.Equal(t, "bulkhead", rec.Events()[1].Policy)
}

// TestQueueIsFIFO: waiters queued in order get slots in order, a newcomer
// cannot overtake them, and a full queue refuses at once.
func TestQueueIsFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueue: 3})
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
		assert.ErrorIs(t, err, bulkhead.ErrFull)
		assert.Zero(t, time.Since(start), "a full queue refuses at once")

		held.Release()
		assert.Equal(t, []int{1, 2, 3}, []int{<-order, <-order, <-order})
		s := b.Snapshot()
		assert.Equal(t, 0, s.InFlight)
		assert.Equal(t, 0, s.Queued)
		assert.Equal(t, uint64(3), s.Waited)
	})
}

func TestQueuedCallersTimeOutOnSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueue: 2, MaxWait: 100 * time.Millisecond, Name: "fx"})
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
			assert.ErrorIs(t, r.err, bulkhead.ErrFull, "waiter %d", i)
			assert.True(t, resilience.IsRejected(r.err))
			assert.Equal(t, time.Duration(i)*30*time.Millisecond+100*time.Millisecond, r.elapsed, "waiter %d", i)
		}
		assert.EqualError(t, r1.err, `bulkhead: waited 100ms in the queue: bulkhead: full (name "fx")`)
		s := b.Snapshot()
		assert.Equal(t, uint64(2), s.TimedOut)
		assert.Equal(t, 0, s.Queued)
		assert.Equal(t, 1, s.InFlight)
		held.Release()
		assert.Equal(t, 0, b.Snapshot().InFlight)
	})
}

func TestCancelledWaiterLeavesTheQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueue: 2})
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

func TestErrorsAreDistinct(t *testing.T) {
	assert.NotErrorIs(t, bulkhead.ErrFull, bulkhead.ErrOverLimit)
	assert.NotErrorIs(t, bulkhead.ErrOverLimit, bulkhead.ErrFull)
	assert.False(t, errors.Is(bulkhead.ErrNil, bulkhead.ErrFull))
}
