package health_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// A *breaker.Breaker is a health.Holder.
var _ health.Holder = (*breaker.Breaker)(nil)

func newBreaker(t require.TestingT, cfg breaker.Config) *breaker.Breaker {
	b, err := breaker.New(cfg)
	require.NoError(t, err)
	return b
}

func TestBoundBreakerIsHeldOpenAndReleased(t *testing.T) {
	for _, closeNow := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			var s script
			c, err := health.New(health.Config{Interval: 10 * time.Second, UnhealthyInterval: 2 * time.Second,
				FailuresToUnhealthy: 2, SuccessesToHealthy: 1}, health.Target{Name: "bank", Probe: s.probe})
			require.NoError(t, err)
			b := newBreaker(t, breaker.Config{Name: "bank"})
			require.NoError(t, health.BindBreaker(c, "bank", b, health.BindOptions{CloseOnHealthy: closeNow}))
			require.NoError(t, c.Start())

			time.Sleep(time.Second) // t=1s: first probe passed at 0 (synctest: fake time)
			assert.Equal(t, breaker.Closed, b.State())
			s.set(true)
			time.Sleep(20 * time.Second) // failures at 10s and 20s: unhealthy at 20s (synctest: fake time)
			assert.Equal(t, breaker.HeldOpen, b.State(), "a health hold, not a person's force")
			_, err = b.Allow()
			assert.ErrorIs(t, err, breaker.ErrOpen)
			after, _ := resilience.RetryAfter(err)
			assert.Equal(t, time.Second, after, "t=21s, next probe at 22s")

			time.Sleep(2 * time.Second) // t=23s: failed again at 22s, next at 24s (synctest: fake time)
			_, err = b.Allow()
			after, _ = resilience.RetryAfter(err)
			assert.Equal(t, time.Second, after, "refreshed after every probe")

			s.set(false)
			time.Sleep(2 * time.Second) // t=25s: passed at 24s (synctest: fake time)
			want := breaker.HalfOpen
			if closeNow {
				want = breaker.Closed
			}
			assert.Equal(t, want, b.State())
			c.Stop()
		})
	}
}

func TestHealthyTargetEndsAnOpenWaitEarly(t *testing.T) {
	c, err := health.New(health.Config{Interval: time.Second}, health.Target{Name: "fx", Probe: healthy})
	require.NoError(t, err)
	b := newBreaker(t, breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Hour})
	p, _ := b.Allow()
	p.Done(resilience.Failure)
	require.Equal(t, breaker.Open, b.State())
	require.NoError(t, health.BindBreaker(c, "fx", b, health.BindOptions{}))
	st, _ := c.Probe(context.Background(), "fx") // unknown → healthy
	require.Equal(t, health.Healthy, st)
	assert.Equal(t, breaker.HalfOpen, b.State(), "the dependency answered: try it now, not in an hour")
}

func TestBoundBreakerRespectsManualStates(t *testing.T) {
	c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1}, health.Target{Name: "log", Probe: down})
	require.NoError(t, err)
	_, _ = c.Probe(context.Background(), "log")
	b := newBreaker(t, breaker.Config{})
	require.NoError(t, health.BindBreaker(c, "log", b, health.BindOptions{}))
	assert.Equal(t, breaker.HeldOpen, b.State(), "already unhealthy: held at once")

	manual := newBreaker(t, breaker.Config{})
	manual.ForceClosed()
	require.NoError(t, health.BindBreaker(c, "log", manual, health.BindOptions{}))
	_, _ = c.Probe(context.Background(), "log")
	assert.Equal(t, breaker.Disabled, manual.State(), "a person's choice wins")

	forced := newBreaker(t, breaker.Config{})
	require.NoError(t, health.BindBreaker(c, "log", forced, health.BindOptions{}))
	forced.ForceOpen()
	c2, err := health.New(health.Config{Interval: time.Second}, health.Target{Name: "log", Probe: healthy})
	require.NoError(t, err)
	require.NoError(t, health.BindBreaker(c2, "log", forced, health.BindOptions{}))
	_, _ = c2.Probe(context.Background(), "log")
	assert.Equal(t, breaker.ForcedOpen, forced.State(), "a recovery never undoes a person's force")
}

func TestStopReleasesHeldBreakers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1},
			health.Target{Name: "log", Probe: down})
		require.NoError(t, err)
		b := newBreaker(t, breaker.Config{})
		manual := newBreaker(t, breaker.Config{})
		require.NoError(t, health.BindBreaker(c, "log", b, health.BindOptions{}))
		require.NoError(t, health.BindBreaker(c, "log", manual, health.BindOptions{}))
		manual.ForceOpen()
		require.NoError(t, c.Start())
		time.Sleep(time.Millisecond) // synctest: fake time
		require.Equal(t, breaker.HeldOpen, b.State())
		c.Stop()
		assert.Equal(t, breaker.HalfOpen, b.State())
		assert.Equal(t, breaker.ForcedOpen, manual.State(), "a person's force stays")
	})
}

// For any sequence of probe results and calls, the bound breaker is held
// open exactly while the target is unhealthy, and released to half-open
// when it recovers.
func TestBoundBreakerFollowsTheModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := rapid.IntRange(1, 4).Draw(t, "FailuresToUnhealthy")
		s := rapid.IntRange(1, 4).Draw(t, "SuccessesToHealthy")
		var next error
		c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: f, SuccessesToHealthy: s},
			health.Target{Name: "x", Probe: func(context.Context) error { return next }})
		require.NoError(t, err)
		b := newBreaker(t, breaker.Config{})
		require.NoError(t, health.BindBreaker(c, "x", b, health.BindOptions{}))
		want := breaker.Closed
		t.Repeat(map[string]func(*rapid.T){
			"probe": func(t *rapid.T) {
				next = nil
				if rapid.Bool().Draw(t, "fail") {
					next = errDown
				}
				before := c.Status("x")
				after, _ := c.Probe(context.Background(), "x")
				switch {
				case after == health.Unhealthy:
					want = breaker.HeldOpen
				case before == health.Unhealthy && after == health.Healthy:
					want = breaker.HalfOpen
				}
			},
			"call": func(t *rapid.T) {
				// Real traffic in half-open: one success closes it (SuccessesToClose 1).
				p, err := b.Allow()
				if err == nil {
					p.Done(resilience.Success)
					if want == breaker.HalfOpen {
						want = breaker.Closed
					}
				}
			},
			"": func(t *rapid.T) {
				require.Equal(t, want, b.State())
			},
		})
	})
}
