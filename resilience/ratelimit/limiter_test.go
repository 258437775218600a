package ratelimit_test

import (
	"errors"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name  string
		cfg   ratelimit.Config
		field string
		rule  string
		value any
	}{
		{"zero rate", ratelimit.Config{}, "Rate", "must be positive or ratelimit.Inf", ratelimit.Rate{}},
		{"negative rate", ratelimit.Config{Rate: ratelimit.PerSecond(-5)}, "Rate", "must be positive or ratelimit.Inf", ratelimit.PerSecond(-5)},
		{"zero interval", ratelimit.Config{Rate: ratelimit.Every(0)}, "Rate", "must be positive or ratelimit.Inf", ratelimit.Every(0)},
		{"negative burst", ratelimit.Config{Rate: ratelimit.PerSecond(1), Burst: -3}, "Burst", "must not be negative", -3},
		{"span overflow", ratelimit.Config{Rate: ratelimit.Every(24 * time.Hour), Burst: 1 << 20}, "Burst",
			"must be at most 13343 at rate 1/24h0m0s", 1 << 20},
		{"negative wait", ratelimit.Config{Rate: ratelimit.PerSecond(1), MaxWait: -time.Second}, "MaxWait", "must not be negative", -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name = "bank"
			l, err := ratelimit.NewWithConfig(tt.cfg)
			assert.Nil(t, l)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, resilience.ConfigError{Component: "ratelimit", Name: "bank", Field: tt.field, Rule: tt.rule, Value: tt.value}, *ce)
		})
	}
	_, err := ratelimit.New(ratelimit.PerSecond(1), -1)
	assert.EqualError(t, err, "ratelimit: Burst must not be negative, got -1", "the positional form says the same")
}

// TestZeroBurstMeansOneEverywhere (issue 13): New(r, 0), Config{Burst: 0}
// and SetBurst(0) all mean a burst of 1.
func TestZeroBurstMeansOneEverywhere(t *testing.T) {
	positional, err := ratelimit.New(ratelimit.PerSecond(1), 0)
	require.NoError(t, err)
	configured, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.PerSecond(1)})
	require.NoError(t, err)
	keyed, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.PerSecond(1)})
	require.NoError(t, err)
	changed, err := ratelimit.New(ratelimit.PerSecond(1), 5)
	require.NoError(t, err)
	require.NoError(t, changed.SetBurst(0))
	for _, l := range []*ratelimit.Limiter{positional, configured, changed} {
		assert.Equal(t, 1, l.Snapshot().Burst)
	}
	assert.Equal(t, 1, keyed.Snapshot().Burst)
	assert.True(t, positional.Allow())
	assert.False(t, positional.Allow())
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
	assert.Equal(t, ratelimit.Snapshot{Name: "bank", Rate: ratelimit.Every(time.Second), Burst: 4, Tokens: 3, FullIn: time.Second},
		l.SnapshotAt(mock.Now().Add(2*time.Second)))
	r := l.ReserveN(3) // borrows two tokens ahead
	require.True(t, r.OK())
	assert.Equal(t, 2*time.Second, r.Delay())
	s := l.Snapshot()
	assert.Equal(t, -2, s.Tokens)
	assert.Equal(t, 6*time.Second, s.FullIn)
}

func TestSetRateKeepsTokensAndEmits(t *testing.T) {
	mock := clock.NewMock()
	rec := resiliencetest.NewRecorder()
	l, err := ratelimit.NewWithConfig(ratelimit.Config{
		Rate: ratelimit.Every(time.Second), Burst: 10, Name: "fx", Clock: mock,
		Listeners: resilience.Listeners{rec.Listener()},
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

	var ce *resilience.ConfigError
	require.ErrorAs(t, l.SetRate(ratelimit.Rate{}), &ce)
	assert.Equal(t, resilience.ConfigError{Component: "ratelimit", Name: "fx", Field: "Rate", Rule: "must be positive or ratelimit.Inf", Value: ratelimit.Rate{}}, *ce)
	require.ErrorAs(t, l.SetBurst(-1), &ce)
	assert.Equal(t, "Burst", ce.Field)
	assert.Equal(t, 20, l.Snapshot().Tokens, "a refused change changes nothing")
	events := rec.Events()
	require.Len(t, events, 3, "one event per successful change")
	for _, e := range events {
		assert.Equal(t, resilience.EventLimitChange, e.Kind)
		assert.Equal(t, "fx", e.Name)
	}
	assert.Equal(t, "rate 1/s -> 1/10ms, burst 10 -> 10", events[0].Reason)
	assert.Equal(t, ratelimit.Snapshot{Name: "fx", Rate: ratelimit.Every(10 * time.Millisecond), Burst: 10, Tokens: 4, FullIn: 60 * time.Millisecond},
		events[0].Detail, "the snapshot just after the change")
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
	all := []error{ratelimit.ErrLimited, ratelimit.ErrExceedsBurst, ratelimit.ErrTooManyKeys, ratelimit.ErrNilLimiter}
	for i, a := range all {
		for j, b := range all {
			assert.Equal(t, i == j, errors.Is(a, b), "%v vs %v", a, b)
		}
	}
}

func TestListenerMayCallBackIntoTheLimiter(t *testing.T) {
	var l *ratelimit.Limiter
	var seen []string
	l, err := ratelimit.NewWithConfig(ratelimit.Config{
		Rate: ratelimit.Every(time.Second), Burst: 2, Clock: clock.NewMock(),
		Listeners: resilience.Listeners{resilience.OnStateChange(func(e resilience.Event) {
			seen = append(seen, e.Reason)
			if l.Snapshot().Burst == 2 { // re-enter: no lock may be held here
				require.NoError(t, l.SetBurst(3))
			}
			l.Allow()
		})},
	})
	require.NoError(t, err)
	require.NoError(t, l.SetRate(ratelimit.Every(time.Minute)))
	assert.Equal(t, []string{"rate 1/s -> 1/m, burst 2 -> 2", "rate 1/m -> 1/m, burst 2 -> 3"}, seen,
		"events arrive in order, the nested one after the first returns")
	assert.Equal(t, 3, l.Snapshot().Burst)
}
