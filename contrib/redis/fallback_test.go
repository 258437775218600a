package riprapredis_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	riprapredis "github.com/riprap-go/riprap/contrib/redis"
	"github.com/riprap-go/riprap/contrib/redis/internal/redistest"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// While Redis is down a limiter decides without it: by its Local limiter,
// by admitting (fail open, the default) or by refusing (FailClosed). One
// failed round trip per DownWait, not one per call; Redis is used again
// once it is back.
func TestLimiterWithoutRedis(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   func(*riprapredis.LimiterConfig, *ratelimit.Limiter)
		check func(t *testing.T, errs []error)
	}{
		{"fail open", func(*riprapredis.LimiterConfig, *ratelimit.Limiter) {}, func(t *testing.T, errs []error) {
			for _, err := range errs {
				assert.NoError(t, err)
			}
		}},
		{"fail closed", func(c *riprapredis.LimiterConfig, _ *ratelimit.Limiter) { c.FailClosed = true }, func(t *testing.T, errs []error) {
			for _, err := range errs {
				assert.ErrorIs(t, err, riprapredis.ErrUnavailable)
				assert.True(t, resilience.IsRejected(err), "not attempted, safe to retry")
			}
		}},
		{"local", func(c *riprapredis.LimiterConfig, local *ratelimit.Limiter) { c.Local = local }, func(t *testing.T, errs []error) {
			assert.NoError(t, errs[0])
			assert.NoError(t, errs[1])
			for _, err := range errs[2:] {
				assert.ErrorIs(t, err, ratelimit.ErrLimited)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Start(t)
			clk := newMockClock()
			local, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.PerSecond(1), Burst: 2, Clock: clk})
			require.NoError(t, err)
			cfg := riprapredis.LimiterConfig{
				Name: "bank", Rate: ratelimit.PerSecond(1000), Burst: 100, Time: riprapredis.CallerTime,
				Clock: clk, DownWait: time.Second,
			}
			tc.cfg(&cfg, local)
			l, _ := newLimiter(t, srv, cfg)
			require.NoError(t, l.Admit(context.Background()))

			srv.Kill()
			var errs []error
			for range 10 {
				errs = append(errs, l.Admit(context.Background()))
			}
			tc.check(t, errs)
			snap := l.Snapshot()
			assert.Equal(t, uint64(2), snap.RoundTrips, "one before the outage, one that failed")
			assert.Equal(t, uint64(10), snap.Fallbacks)
			assert.Equal(t, "open", snap.Redis)
			assert.NotEmpty(t, snap.LastError)

			srv.Restart()
			clk.Add(time.Second)
			require.NoError(t, l.Admit(context.Background()))
			snap = l.Snapshot()
			assert.Equal(t, uint64(3), snap.RoundTrips)
			assert.Equal(t, "closed", snap.Redis)
		})
	}
}

// A script error (here, a key that does not hold a number) is a Redis
// failure like any other: the call is decided locally, not failed.
func TestLimiterScriptErrorFallsBack(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client(t)
	require.NoError(t, admin.Set(context.Background(), riprapredis.DefaultPrefix+"rate:{bank}", "garbage", 0).Err())
	l, _ := newLimiter(t, srv, riprapredis.LimiterConfig{Name: "bank", Rate: ratelimit.PerSecond(10), FailClosed: true})
	require.ErrorIs(t, l.Admit(context.Background()), riprapredis.ErrUnavailable)
	assert.Equal(t, uint64(1), l.Snapshot().Errors)
}

// ratelimit.Inf admits everything without a round trip; a done context and
// a nil limiter are refused without one.
func TestLimiterEdges(t *testing.T) {
	srv := redistest.Start(t)
	inf, cmds := newLimiter(t, srv, riprapredis.LimiterConfig{Name: "bank", Rate: ratelimit.Inf})
	for range 100 {
		require.NoError(t, inf.Admit(context.Background()))
	}
	assert.Zero(t, cmds.n.Load())

	l, cmds := newLimiter(t, srv, riprapredis.LimiterConfig{Name: "bank", Rate: ratelimit.PerSecond(10)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, l.Admit(ctx), context.Canceled)
	require.ErrorIs(t, resilience.Run(ctx, func(context.Context) error { return nil }, l), context.Canceled)
	assert.Zero(t, cmds.n.Load())

	var nilLimiter *riprapredis.Limiter
	require.ErrorIs(t, nilLimiter.Admit(context.Background()), ratelimit.ErrNilLimiter)
}
