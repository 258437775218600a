package backoff_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
)

// These tests use the real clock (Clock nil) inside a synctest bubble, where
// timers and time.Now are fake and time only moves when every goroutine of
// the bubble is blocked, so durations are exact.

func TestWaitLengths(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		strategy := newExponential(t, backoff.ExponentialConfig{Initial: time.Second, Max: 3 * time.Second})
		r := newRetry(t, backoff.RetryConfig{MaxAttempts: 5, Strategy: strategy})

		var starts []time.Time
		hinted := resilience.WithRetryAfter(errBoom, 7*time.Second)
		err := resilience.Run(context.Background(), func(context.Context) error {
			starts = append(starts, time.Now())
			if len(starts) == 3 {
				return hinted
			}
			return errBoom
		}, r)
		assert.ErrorIs(t, err, backoff.ErrMaxAttempts)

		// 1s and 2s from the schedule, 7s from the hint (longer than 3s),
		// then 3s at the cap.
		want := []time.Duration{time.Second, 2 * time.Second, 7 * time.Second, 3 * time.Second}
		require.Len(t, starts, len(want)+1)
		for i, w := range want {
			assert.Equal(t, w, starts[i+1].Sub(starts[i]), "wait before attempt %d", i+2)
		}
	})
}

func TestCancelEndsAWaitAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRetry(t, backoff.RetryConfig{Strategy: backoff.Constant(time.Hour)})
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		start := time.Now()
		time.AfterFunc(5*time.Second, func() { cancel(nil) })

		calls := 0
		err := resilience.Run(ctx, func(context.Context) error { calls++; return errBoom }, r)
		assert.Equal(t, 5*time.Second, time.Since(start), "returned when the caller cancelled, not after the hour")
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, errBoom, "the last failure stays visible")
		assert.Equal(t, resilience.Ignored, resilience.DefaultOutcome(ctx, err), "outer policies see the caller's cancellation")
		assert.Equal(t, 1, calls)
	})
}

func TestWaitDeadlineTooClose(t *testing.T) {
	cases := []struct {
		name     string
		deadline time.Duration
		calls    int
		elapsed  time.Duration
	}{
		{"deadline before the wait ends", 1500 * time.Millisecond, 1, 0},
		{"deadline exactly when the wait ends", 2 * time.Second, 1, 0},
		{"deadline after the wait ends", 2*time.Second + 1, 2, 2 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRetry(t, backoff.RetryConfig{MaxAttempts: 2, Strategy: backoff.Constant(2 * time.Second)})
				ctx, cancel := context.WithTimeout(context.Background(), c.deadline)
				defer cancel()
				start := time.Now()
				calls := 0
				err := resilience.Run(ctx, func(context.Context) error { calls++; return errBoom }, r)
				assert.Equal(t, c.elapsed, time.Since(start))
				assert.Equal(t, c.calls, calls)
				assert.ErrorIs(t, err, errBoom)
				if c.calls == 1 {
					assert.ErrorIs(t, err, backoff.ErrDeadline)
				} else {
					assert.ErrorIs(t, err, backoff.ErrMaxAttempts)
				}
			})
		})
	}
}

// MaxDuration counts from before the first attempt, so a slow first attempt
// uses it up too.
func TestWaitMaxDurationIncludesAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRetry(t, backoff.RetryConfig{
			MaxAttempts: backoff.Unlimited, MaxDuration: 10 * time.Second, Strategy: backoff.Constant(time.Second),
		})
		start := time.Now()
		calls := 0
		err := resilience.Run(context.Background(), func(context.Context) error {
			calls++
			time.Sleep(4 * time.Second)
			return errBoom
		}, r)
		assert.ErrorIs(t, err, backoff.ErrMaxDuration)
		// 4s, wait to 5s, 9s; a wait ending at 10s still fits, then 14s.
		assert.Equal(t, 3, calls)
		assert.Equal(t, 14*time.Second, time.Since(start))
	})
}

// The zero Retry: three attempts, full jitter from 100ms doubling.
func TestWaitDefaultSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var starts []time.Time
		err := resilience.Run(context.Background(), func(context.Context) error {
			starts = append(starts, time.Now())
			return errBoom
		}, &backoff.Retry{})
		assert.ErrorIs(t, err, backoff.ErrMaxAttempts)
		require.Len(t, starts, backoff.DefaultMaxAttempts)
		for i, limit := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond} {
			w := starts[i+1].Sub(starts[i])
			assert.True(t, w >= 0 && w <= limit, "wait %d: %v outside [0, %v]", i+1, w, limit)
		}
	})
}
