package health_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestBoundHolderIsHeldWhileUnhealthyAndReleased(t *testing.T) {
	for _, closeNow := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			var s script
			c, err := health.New(health.Config{Interval: 10 * time.Second, UnhealthyInterval: 2 * time.Second,
				FailuresToUnhealthy: 2, SuccessesToHealthy: 1}, health.Target{Name: "bank", Probe: s.probe})
			require.NoError(t, err)
			var h holder
			require.NoError(t, health.BindBreaker(c, "bank", &h, health.BindOptions{CloseOnHealthy: closeNow}))
			require.NoError(t, c.Start())

			time.Sleep(time.Second) // t=1s: first probe passed at 0 (synctest: fake time)
			release := "release"
			if closeNow {
				release = "close"
			}
			_, _, calls := h.state()
			assert.Equal(t, []string{release}, calls, "unknown → healthy: the dependency answered")
			s.set(true)
			time.Sleep(20 * time.Second) // failures at 10s and 20s: unhealthy at 20s (synctest: fake time)
			held, after, _ := h.state()
			assert.True(t, held)
			assert.Equal(t, 2*time.Second, after, "t=20s, next probe at 22s")

			time.Sleep(2 * time.Second) // t=22s: failed again, next at 24s (synctest: fake time)
			held, after, calls = h.state()
			assert.True(t, held)
			assert.Equal(t, 2*time.Second, after, "refreshed after every probe")
			assert.Equal(t, []string{release, "hold", "hold"}, calls)

			s.set(false)
			time.Sleep(2 * time.Second) // t=24s: passed (synctest: fake time)
			held, _, calls = h.state()
			assert.False(t, held)
			assert.Equal(t, []string{release, "hold", "hold", release}, calls)
			time.Sleep(20 * time.Second) // healthy probes at 34s, 44s (synctest: fake time)
			_, _, calls = h.state()
			assert.Len(t, calls, 4, "a target that stays healthy leaves the holder alone")
			c.Stop()
			_, _, calls = h.state()
			assert.Len(t, calls, 4, "nothing held: Stop releases nothing")
		})
	}
}

func TestBindingReasons(t *testing.T) {
	c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 2, SuccessesToHealthy: 1},
		health.Target{Name: "log", Probe: down})
	require.NoError(t, err)
	var h holder
	require.NoError(t, health.BindBreaker(c, "log", &h, health.BindOptions{}))
	for range 3 {
		_, _ = c.Probe(context.Background(), "log")
	}
	assert.Equal(t, []string{"health: 2 consecutive failures", "health: still unhealthy"}, h.reasons)
}

func TestBindingWhenAlreadyUnhealthyAndManualStates(t *testing.T) {
	c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1}, health.Target{Name: "log", Probe: down})
	require.NoError(t, err)
	_, _ = c.Probe(context.Background(), "log")
	require.Equal(t, health.Unhealthy, c.Status("log"))

	var h holder
	require.NoError(t, health.BindBreaker(c, "log", &h, health.BindOptions{}))
	held, _, _ := h.state()
	assert.True(t, held, "already unhealthy: held at once")

	manual := holder{decline: true}
	require.NoError(t, health.BindBreaker(c, "log", &manual, health.BindOptions{}))
	_, _ = c.Probe(context.Background(), "log")
	_, _, calls := manual.state()
	assert.Equal(t, []string{"declined", "declined"}, calls, "a person's choice wins, every time")
}

func TestBindBreakerRefusesBadArguments(t *testing.T) {
	c, err := health.New(health.Config{Interval: time.Second}, health.Target{Name: "log", Probe: down})
	require.NoError(t, err)
	var h holder
	assert.ErrorIs(t, health.BindBreaker(c, "nope", &h, health.BindOptions{}), health.ErrUnknownTarget)
	var nilHolder *holder
	for name, tc := range map[string]struct {
		c     *health.Checker
		h     health.Holder
		field string
	}{
		"nil checker":    {nil, &h, "c"},
		"nil holder":     {c, nil, "b"},
		"typed nil":      {c, nilHolder, "b"},
		"typed nil func": {c, holderFunc(nil), "b"},
	} {
		t.Run(name, func(t *testing.T) {
			var ce *resilience.ConfigError
			require.True(t, errors.As(health.BindBreaker(tc.c, "log", tc.h, health.BindOptions{}), &ce))
			assert.Equal(t, tc.field, ce.Field)
			assert.Equal(t, "must not be nil", ce.Rule)
		})
	}
	assert.NotPanics(t, func() { _, _ = c.Probe(context.Background(), "log") })
}

type holderFunc func()

func (holderFunc) HoldOpen(string, time.Duration) bool { return true }
func (holderFunc) Release(string, bool) bool           { return true }

// Regression: a breaker held open by a checker stayed open for good after
// the checker stopped, since only a probe could release it.
func TestStopReleasesHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1},
			health.Target{Name: "log", Probe: down})
		require.NoError(t, err)
		var h holder
		manual := holder{decline: true}
		require.NoError(t, health.BindBreaker(c, "log", &h, health.BindOptions{CloseOnHealthy: true}))
		require.NoError(t, health.BindBreaker(c, "log", &manual, health.BindOptions{}))
		require.NoError(t, c.Start())
		time.Sleep(time.Millisecond) // synctest: fake time
		held, _, _ := h.state()
		require.True(t, held)
		c.Stop()
		held, _, calls := h.state()
		assert.False(t, held)
		assert.Equal(t, []string{"hold", "release"}, calls, "released to half-open, never closed blind")
		_, _, calls = manual.state()
		assert.NotContains(t, calls, "release", "a hold it never had is not released")
	})
}

// A listener hears of a change after the bound holders followed it.
func TestHoldersFollowBeforeListenersHear(t *testing.T) {
	var h holder
	var heldWhenHeard []bool
	c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1, SuccessesToHealthy: 1,
		Listeners: resilience.Listeners{resilience.OnStateChange(func(resilience.Event) {
			held, _, _ := h.state()
			heldWhenHeard = append(heldWhenHeard, held)
		})}},
		health.Target{Name: "x", Probe: down})
	require.NoError(t, err)
	require.NoError(t, health.BindBreaker(c, "x", &h, health.BindOptions{}))
	_, _ = c.Probe(context.Background(), "x")
	assert.Equal(t, []bool{true}, heldWhenHeard)
}

// For any sequence of probe results the holder is held exactly while the
// target is unhealthy.
func TestBoundHolderFollowsTheModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := rapid.IntRange(1, 4).Draw(t, "FailuresToUnhealthy")
		s := rapid.IntRange(1, 4).Draw(t, "SuccessesToHealthy")
		var next error
		c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: f, SuccessesToHealthy: s},
			health.Target{Name: "x", Probe: func(context.Context) error { return next }})
		require.NoError(t, err)
		var h holder
		require.NoError(t, health.BindBreaker(c, "x", &h, health.BindOptions{}))
		t.Repeat(map[string]func(*rapid.T){
			"probe": func(t *rapid.T) {
				next = nil
				if rapid.Bool().Draw(t, "fail") {
					next = errDown
				}
				_, _ = c.Probe(context.Background(), "x")
			},
			"": func(t *rapid.T) {
				held, _, _ := h.state()
				require.Equal(t, c.Status("x") == health.Unhealthy, held)
			},
		})
	})
}
