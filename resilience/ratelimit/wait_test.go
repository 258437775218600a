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

// Inside a synctest bubble the real clock (Config.Clock nil) is fake, so
// elapsed times are exact.

func TestWaitReturnsWhenTheTokenIsDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := ratelimit.New(ratelimit.Every(100*time.Millisecond), 2)
		require.NoError(t, err)
		start := time.Now()
		for i, want := range []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond} {
			require.NoError(t, l.Wait(t.Context()))
			assert.Equal(t, want, time.Since(start), "wait %d", i)
		}
		require.NoError(t, l.WaitN(t.Context(), 2))
		assert.Equal(t, 400*time.Millisecond, time.Since(start))
		require.NoError(t, l.WaitN(t.Context(), 0))
		assert.Equal(t, 400*time.Millisecond, time.Since(start), "n=0 never waits")
	})
}

func TestWaitNExceedingBurstFailsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := ratelimit.New(ratelimit.Every(time.Second), 2)
		require.NoError(t, err)
		start := time.Now()
		err = l.WaitN(t.Context(), 3)
		assert.ErrorIs(t, err, ratelimit.ErrExceedsBurst)
		assert.EqualError(t, err, "ratelimit: n exceeds burst: WaitN(n=3) with burst 2")
		assert.False(t, resilience.IsRejected(err), "a request that can never pass is a caller error")
		assert.Zero(t, time.Since(start))
	})
}

func TestWaitCancelledReturnsPromptlyAndGivesTokensBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := ratelimit.New(ratelimit.Every(100*time.Millisecond), 1)
		require.NoError(t, err)
		require.True(t, l.Allow())
		ctx, cancel := context.WithCancel(t.Context())
		start := time.Now()
		done := make(chan error)
		go func() { done <- l.Wait(ctx) }()
		time.Sleep(30 * time.Millisecond) // synctest: fake time
		cancel()
		err = <-done
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 30*time.Millisecond, time.Since(start), "must return at cancellation")
		r := l.Reserve()
		assert.Equal(t, 70*time.Millisecond, r.Delay(), "the cancelled wait's token must be back")
	})
}

func TestWaitFailsFastWhenTheDeadlineIsTooClose(t *testing.T) {
	tests := []struct {
		name     string
		deadline time.Duration
		wantErr  bool
	}{
		{"deadline before the token", 50 * time.Millisecond, true},
		{"deadline at the token", 100 * time.Millisecond, true},
		{"deadline after the token", 101 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Every(100 * time.Millisecond), Burst: 1, Name: "fx"})
				require.NoError(t, err)
				require.True(t, l.Allow())
				ctx, cancel := context.WithTimeout(t.Context(), tt.deadline)
				defer cancel()
				start := time.Now()
				err = l.Wait(ctx)
				if !tt.wantErr {
					require.NoError(t, err)
					assert.Equal(t, 100*time.Millisecond, time.Since(start))
					return
				}
				assert.Zero(t, time.Since(start), "must fail without waiting")
				assert.True(t, resilience.IsRejected(err))
				assert.ErrorIs(t, err, ratelimit.ErrLimited)
				d, ok := resilience.RetryAfter(err)
				assert.True(t, ok)
				assert.Equal(t, 100*time.Millisecond, d)
				rej, _ := resilience.AsRejection(err)
				assert.Equal(t, "fx", rej.Name)
				assert.Equal(t, 0, l.Snapshot().Tokens, "a refused wait consumes nothing")
				assert.Equal(t, 100*time.Millisecond, l.Reserve().Delay())
			})
		})
	}
}

func TestWaitWithDoneContextReturnsItsError(t *testing.T) {
	l, err := ratelimit.New(ratelimit.PerSecond(1), 1)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.True(t, errors.Is(l.Wait(ctx), context.Canceled))
	assert.Equal(t, 1, l.Snapshot().Tokens)
}
