package breaker_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

func TestNewRefusesBadConfig(t *testing.T) {
	const maxWait = time.Duration(math.MaxInt64 / 4)
	tests := []struct {
		name  string
		cfg   breaker.Config
		field string
		rule  string
		value any
	}{
		{"rate above 1", breaker.Config{FailureRate: 1.5}, "FailureRate", "must be in [0, 1]", 1.5},
		{"negative rate", breaker.Config{FailureRate: -0.1}, "FailureRate", "must be in [0, 1]", -0.1},
		{"slow rate above 1", breaker.Config{SlowCallRate: 2}, "SlowCallRate", "must be in [0, 1]", 2.0},
		{"negative consecutive", breaker.Config{ConsecutiveFailures: -1}, "ConsecutiveFailures", "must not be negative", -1},
		{"negative slow duration", breaker.Config{SlowCallDuration: -1}, "SlowCallDuration", "must not be negative", time.Duration(-1)},
		{"negative minimum", breaker.Config{MinimumCalls: -1}, "MinimumCalls", "must not be negative", -1},
		{"negative window", breaker.Config{WindowSize: -1}, "WindowSize", "must not be negative", -1},
		{"huge window", breaker.Config{WindowSize: 1<<30 + 1}, "WindowSize", "must be at most 1073741824", 1<<30 + 1},
		{"negative duration", breaker.Config{WindowDuration: -time.Second}, "WindowDuration", "must not be negative", -time.Second},
		{"huge buckets", breaker.Config{WindowDuration: 1 << 62, WindowBuckets: 1 << 61}, "WindowBuckets", "must be in [0, 65536]", 1 << 61},
		{"negative buckets", breaker.Config{WindowBuckets: -1}, "WindowBuckets", "must be in [0, 65536]", -1},
		{"both windows", breaker.Config{WindowSize: 10, WindowDuration: time.Second}, "WindowDuration", "must be 0 when WindowSize is set (10)", time.Second},
		{"size not multiple", breaker.Config{WindowSize: 15, WindowBuckets: 10}, "WindowSize", "must be a multiple of WindowBuckets (10)", 15},
		{"default size not multiple", breaker.Config{WindowBuckets: 7}, "WindowSize", "must be a multiple of WindowBuckets (7)", 100},
		{"min above size", breaker.Config{FailureRate: 0.5, WindowSize: 10, MinimumCalls: 11}, "MinimumCalls", "must be at most WindowSize (10)", 11},
		{"tiny buckets", breaker.Config{WindowDuration: 5, WindowBuckets: 10}, "WindowDuration", "must be at least WindowBuckets (10) nanoseconds", time.Duration(5)},
		{"negative wait", breaker.Config{OpenWait: -time.Second}, "OpenWait", "must not be negative", -time.Second},
		{"negative cap", breaker.Config{MaxOpenWait: -time.Second}, "MaxOpenWait", "must not be negative", -time.Second},
		{"cap below wait", breaker.Config{OpenWait: time.Minute, MaxOpenWait: time.Second}, "MaxOpenWait", "must be at least OpenWait (1m0s)", time.Second},
		{"huge cap", breaker.Config{MaxOpenWait: maxWait + 1}, "MaxOpenWait", "must be at most " + maxWait.String(), maxWait + 1},
		{"huge wait, default cap", breaker.Config{OpenWait: maxWait + 1}, "OpenWait", "must be at most " + maxWait.String(), maxWait + 1},
		{"negative probes", breaker.Config{MaxProbes: -2}, "MaxProbes", "must not be negative", -2},
		{"negative successes", breaker.Config{SuccessesToClose: -1}, "SuccessesToClose", "must not be negative", -1},
		{"huge probes", breaker.Config{MaxProbes: math.MaxInt32 + 1}, "MaxProbes", "must be at most 2147483647", math.MaxInt32 + 1},
		{"huge successes to close", breaker.Config{SuccessesToClose: math.MaxInt32 + 1}, "SuccessesToClose", "must be at most 2147483647", math.MaxInt32 + 1},
		{"negative half-open", breaker.Config{MaxHalfOpen: -1}, "MaxHalfOpen", "must not be negative", time.Duration(-1)},
		{"huge half-open", breaker.Config{MaxHalfOpen: maxWait + 1}, "MaxHalfOpen", "must be at most " + maxWait.String(), maxWait + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name = "bank"
			var b *breaker.Breaker
			var err error
			require.NotPanics(t, func() { b, err = breaker.New(tt.cfg) })
			assert.Nil(t, b)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "breaker", ce.Component)
			assert.Equal(t, "bank", ce.Name)
			assert.Equal(t, tt.field, ce.Field)
			assert.Equal(t, tt.rule, ce.Rule)
			assert.Equal(t, tt.value, ce.Value)
			for _, r := range ce.Error() {
				require.Less(t, r, rune(128), "ASCII wording: %q", ce.Error())
			}
		})
	}
}

func TestNaNRateIsRefused(t *testing.T) {
	_, err := breaker.New(breaker.Config{SlowCallRate: math.NaN()})
	var ce *resilience.ConfigError
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, "SlowCallRate", ce.Field)
	assert.True(t, math.IsNaN(ce.Value.(float64)))
}

func TestConfigErrorText(t *testing.T) {
	_, err := breaker.New(breaker.Config{Name: "bank", FailureRate: 1.5})
	assert.EqualError(t, err, `breaker "bank": FailureRate must be in [0, 1], got 1.5`)
}

// The default MinimumCalls (10) must not make a valid small window fail
// New, and must be reachable in it.
func TestDefaultMinimumCallsFitsASmallWindow(t *testing.T) {
	b, err := breaker.New(breaker.Config{FailureRate: 0.5, WindowSize: 4, Clock: clock.NewMock()})
	require.NoError(t, err)
	for range 4 {
		p, _ := b.Allow()
		p.Done(resilience.Failure)
	}
	assert.Equal(t, breaker.Open, b.State())
}
