package ratelimit_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

func TestRateInterval(t *testing.T) {
	tests := []struct {
		name string
		rate ratelimit.Rate
		want time.Duration
	}{
		{"every", ratelimit.Every(100 * time.Millisecond), 100 * time.Millisecond},
		{"per second exact", ratelimit.PerSecond(4), 250 * time.Millisecond},
		{"per second rounds up", ratelimit.PerSecond(3), 333333334},
		{"per minute", ratelimit.Per(7, time.Minute), 8571428572},
		{"faster than 1/ns caps at 1ns", ratelimit.PerSecond(2_000_000_000), 1},
		{"inf has none", ratelimit.Inf, 0},
		{"zero rate is invalid", ratelimit.Rate{}, 0},
		{"negative is invalid", ratelimit.PerSecond(-1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.rate.Interval(), "rate %v", tt.rate)
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name  string
		rate  ratelimit.Rate
		burst int
		want  string
	}{
		{"zero rate", ratelimit.Rate{}, 1, "ratelimit: Rate must be positive or ratelimit.Inf, got 0/0s"},
		{"negative rate", ratelimit.PerSecond(-5), 1, "ratelimit: Rate must be positive or ratelimit.Inf, got -5/1s"},
		{"zero interval", ratelimit.Every(0), 1, "ratelimit: Rate must be positive"},
		{"zero burst", ratelimit.PerSecond(1), 0, "ratelimit: Burst must be at least 1, got 0"},
		{"negative burst", ratelimit.PerSecond(1), -3, "ratelimit: Burst must be at least 1, got -3"},
		{"span overflow", ratelimit.Every(24 * time.Hour), 1 << 20, "ratelimit: Burst × interval must not exceed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ratelimit.New(tt.rate, tt.burst)
			require.Error(t, err)
			assert.Nil(t, l)
			assert.True(t, strings.HasPrefix(err.Error(), tt.want), "got %q, want prefix %q", err, tt.want)
		})
	}
	_, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.PerSecond(1), Burst: -1})
	assert.EqualError(t, err, "ratelimit: Burst must be at least 1, got -1")
}

func TestAllowRefillsAtRate(t *testing.T) {
	mock := clock.NewMock()
	l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Every(100 * time.Millisecond), Burst: 3, Clock: mock})
	require.NoError(t, err)
	t0 := mock.Now()
	steps := []struct {
		at   time.Duration
		n    int
		want bool
	}{
		{0, 3, true}, {0, 1, false}, {99 * time.Millisecond, 1, false}, {100 * time.Millisecond, 1, true},
		{100 * time.Millisecond, 1, false}, {250 * time.Millisecond, 1, true}, {time.Hour, 4, false},
		{time.Hour, 3, true}, {time.Hour, 0, true}, {time.Hour, -1, true}, {time.Hour, 1, false},
	}
	for i, s := range steps {
		got := l.AllowNAt(t0.Add(s.at), s.n)
		assert.Equal(t, s.want, got, "step %d: AllowNAt(+%v, %d) got %v, want %v", i, s.at, s.n, got, s.want)
	}
}

// TestAllowNAtToleratesTimeGoingBack replays, on one goroutine, the
// interleaving behind golang/go#65508: a call stamped earlier arrives after
// a later one. x/time/rate v0.16.0 moves its last-update time back and then
// counts the same ten seconds of refill twice, admitting 3 events at t=10s
// with burst 2; the GCRA state only moves forward.
func TestAllowNAtToleratesTimeGoingBack(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Every(time.Second), 2)
	require.NoError(t, err)
	t0 := time.Now()
	admittedAt10 := 0
	if l.AllowNAt(t0.Add(10*time.Second), 1) {
		admittedAt10++
	}
	l.AllowNAt(t0, 1) // late arrival of an earlier timestamp
	for _, n := range []int{2, 1, 1} {
		if l.AllowNAt(t0.Add(10*time.Second), n) {
			admittedAt10 += n
		}
	}
	assert.LessOrEqual(t, admittedAt10, 2, "events admitted at one instant beyond the burst")
	assert.True(t, l.AllowNAt(t0.Add(12*time.Second), 1), "the limiter must still refill with time")
}

func TestInfAdmitsEverything(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Inf, 1)
	require.NoError(t, err)
	for i := 0; i < 1000; i++ {
		require.True(t, l.AllowN(1000), "call %d", i)
	}
	assert.Equal(t, 1, l.Snapshot().Tokens)
	assert.True(t, l.ReserveN(5).OK())
	assert.Zero(t, l.ReserveN(5).Delay())
}

func TestSnapshot(t *testing.T) {
	mock := clock.NewMock()
	l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Every(time.Second), Burst: 4, Name: "bank", Clock: mock})
	require.NoError(t, err)
	assert.Equal(t, ratelimit.Snapshot{Name: "bank", Rate: ratelimit.Every(time.Second), Burst: 4, Tokens: 4}, l.Snapshot())
	require.True(t, l.AllowN(3))
	r := l.ReserveN(3) // borrows two tokens ahead
	require.True(t, r.OK())
	assert.Equal(t, 2*time.Second, r.Delay())
	s := l.Snapshot()
	assert.Equal(t, -2, s.Tokens)
	assert.Equal(t, 6*time.Second, s.FullIn)
}

func TestSetRateKeepsTokensAndEmits(t *testing.T) {
	mock := clock.NewMock()
	var events []resilience.Event
	l, err := ratelimit.NewWithConfig(ratelimit.Config{
		Rate: ratelimit.Every(time.Second), Burst: 10, Name: "fx", Clock: mock,
		Listeners: resilience.Listeners{func(e resilience.Event) { events = append(events, e) }},
	})
	require.NoError(t, err)
	require.True(t, l.AllowN(6)) // 4 left

	require.NoError(t, l.SetRate(ratelimit.Every(10*time.Millisecond)))
	assert.Equal(t, 4, l.Snapshot().Tokens, "a faster rate must not add tokens")
	require.NoError(t, l.SetBurst(2))
	assert.Equal(t, 2, l.Snapshot().Tokens, "a smaller burst caps the tokens")
	require.NoError(t, l.SetBurst(20))
	assert.Equal(t, 2, l.Snapshot().Tokens, "a larger burst refills at the rate, not at once")
	mock.Add(180 * time.Millisecond)
	assert.Equal(t, 20, l.Snapshot().Tokens)

	assert.EqualError(t, l.SetRate(ratelimit.Rate{}), "ratelimit: Rate must be positive or ratelimit.Inf, got 0/0s")
	assert.EqualError(t, l.SetBurst(0), "ratelimit: Burst must be at least 1, got 0")
	require.Len(t, events, 3, "one event per successful change")
	for _, e := range events {
		assert.Equal(t, resilience.EventLimitChange, e.Kind)
		assert.Equal(t, "fx", e.Name)
	}
	assert.Equal(t, "rate 1/1s → 1/10ms, burst 10 → 10", events[0].Reason)
}

func TestReservationCancelRule(t *testing.T) {
	mock := clock.NewMock()
	l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Every(time.Second), Burst: 2, Clock: mock})
	require.NoError(t, err)
	a := l.ReserveN(2)
	b := l.ReserveN(1)
	require.True(t, a.OK())
	require.True(t, b.OK())
	assert.Equal(t, time.Second, b.Delay())
	assert.False(t, a.Cancel(), "b depends on a's tokens")
	assert.True(t, b.Cancel(), "b is the latest admission")
	assert.False(t, b.Cancel(), "a second cancel does nothing")
	c := l.ReserveN(1) // the same slot b had
	assert.Equal(t, time.Second, c.Delay())
	assert.False(t, a.Cancel(), "a was already cancelled once")
	assert.True(t, c.Cancel())
	d := l.ReserveN(1)
	require.NoError(t, l.SetRate(ratelimit.Every(time.Second)))
	assert.False(t, d.Cancel(), "limits changed since")

	tooBig := l.ReserveN(3)
	assert.False(t, tooBig.OK())
	assert.Zero(t, tooBig.Delay())
	assert.False(t, tooBig.Cancel())
}

func TestAllowNNeverPanicsOnBadN(t *testing.T) {
	l, err := ratelimit.New(ratelimit.PerSecond(10), 5)
	require.NoError(t, err)
	assert.False(t, l.AllowN(6))
	assert.False(t, l.AllowN(1<<62))
	assert.True(t, l.AllowN(-1<<62))
	assert.Equal(t, 5, l.Snapshot().Tokens, "refused and empty requests consume nothing")
	assert.False(t, l.ReserveN(1<<62).OK())
}

func TestErrorsAreDistinct(t *testing.T) {
	assert.False(t, errors.Is(ratelimit.ErrLimited, ratelimit.ErrBulkheadFull))
	assert.False(t, errors.Is(ratelimit.ErrTooManyKeys, ratelimit.ErrLimited))
}

func TestListenerMayCallBackIntoTheLimiter(t *testing.T) {
	var l *ratelimit.Limiter
	var seen []string
	l, err := ratelimit.NewWithConfig(ratelimit.Config{
		Rate: ratelimit.Every(time.Second), Burst: 2, Clock: clock.NewMock(),
		Listeners: resilience.Listeners{func(e resilience.Event) {
			seen = append(seen, e.Reason)
			if l.Snapshot().Burst == 2 { // re-enter: no lock may be held here
				require.NoError(t, l.SetBurst(3))
			}
			l.Allow()
		}},
	})
	require.NoError(t, err)
	require.NoError(t, l.SetRate(ratelimit.Every(time.Minute)))
	assert.Equal(t, []string{"rate 1/1s → 1/1m0s, burst 2 → 2", "rate 1/1m0s → 1/1m0s, burst 2 → 3"}, seen,
		"events arrive in order, the nested one after the first returns")
	assert.Equal(t, 3, l.Snapshot().Burst)
}
