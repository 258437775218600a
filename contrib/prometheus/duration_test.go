package riprapprom_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	riprapprom "github.com/riprap-go/riprap/contrib/prometheus"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

func TestCallDuration(t *testing.T) {
	clk := clock.NewMock()
	d, err := riprapprom.NewCallDuration(riprapprom.CallDurationConfig{Buckets: []float64{0.1, 0.5}, Clock: clk})
	require.NoError(t, err)
	br, err := breaker.New(breaker.Config{Name: "bank"})
	require.NoError(t, err)
	guard := d.Guard("bank")
	taking := func(took time.Duration, err error) func(context.Context) error {
		return func(context.Context) error { clk.Add(took); return err }
	}
	require.NoError(t, run(taking(50*time.Millisecond, nil), guard, br))
	require.NoError(t, run(taking(200*time.Millisecond, nil), guard, br))
	require.ErrorIs(t, run(taking(time.Second, errDown), guard, br), errDown)
	br.ForceOpen()
	require.ErrorIs(t, run(ok, guard, br), breaker.ErrOpen) // a rejection: ignored, took no time

	compare(t, d, `
# HELP riprap_call_duration_seconds Duration of calls through a riprap guard, by guard name and outcome (success, failure, ignored).
# TYPE riprap_call_duration_seconds histogram
riprap_call_duration_seconds_bucket{name="bank",outcome="failure",le="0.1"} 0
riprap_call_duration_seconds_bucket{name="bank",outcome="failure",le="0.5"} 0
riprap_call_duration_seconds_bucket{name="bank",outcome="failure",le="+Inf"} 1
riprap_call_duration_seconds_sum{name="bank",outcome="failure"} 1
riprap_call_duration_seconds_count{name="bank",outcome="failure"} 1
riprap_call_duration_seconds_bucket{name="bank",outcome="ignored",le="0.1"} 1
riprap_call_duration_seconds_bucket{name="bank",outcome="ignored",le="0.5"} 1
riprap_call_duration_seconds_bucket{name="bank",outcome="ignored",le="+Inf"} 1
riprap_call_duration_seconds_sum{name="bank",outcome="ignored"} 0
riprap_call_duration_seconds_count{name="bank",outcome="ignored"} 1
riprap_call_duration_seconds_bucket{name="bank",outcome="success",le="0.1"} 1
riprap_call_duration_seconds_bucket{name="bank",outcome="success",le="0.5"} 2
riprap_call_duration_seconds_bucket{name="bank",outcome="success",le="+Inf"} 2
riprap_call_duration_seconds_sum{name="bank",outcome="success"} 0.25
riprap_call_duration_seconds_count{name="bank",outcome="success"} 2
`, "riprap_call_duration_seconds")
}

// TestCallDurationPanicIsFailure also shows that a guard's series exist,
// at zero, from the moment it is made.
func TestCallDurationPanicIsFailure(t *testing.T) {
	d, err := riprapprom.NewCallDuration(riprapprom.CallDurationConfig{Buckets: []float64{1}, Clock: clock.NewMock()})
	require.NoError(t, err)
	guard := d.Guard("bank")
	assert.PanicsWithValue(t, "boom", func() {
		_ = run(func(context.Context) error { panic("boom") }, guard)
	})
	compare(t, d, `
# HELP riprap_call_duration_seconds Duration of calls through a riprap guard, by guard name and outcome (success, failure, ignored).
# TYPE riprap_call_duration_seconds histogram
riprap_call_duration_seconds_bucket{name="bank",outcome="failure",le="1"} 1
riprap_call_duration_seconds_bucket{name="bank",outcome="failure",le="+Inf"} 1
riprap_call_duration_seconds_sum{name="bank",outcome="failure"} 0
riprap_call_duration_seconds_count{name="bank",outcome="failure"} 1
riprap_call_duration_seconds_bucket{name="bank",outcome="ignored",le="1"} 0
riprap_call_duration_seconds_bucket{name="bank",outcome="ignored",le="+Inf"} 0
riprap_call_duration_seconds_sum{name="bank",outcome="ignored"} 0
riprap_call_duration_seconds_count{name="bank",outcome="ignored"} 0
riprap_call_duration_seconds_bucket{name="bank",outcome="success",le="1"} 0
riprap_call_duration_seconds_bucket{name="bank",outcome="success",le="+Inf"} 0
riprap_call_duration_seconds_sum{name="bank",outcome="success"} 0
riprap_call_duration_seconds_count{name="bank",outcome="success"} 0
`, "riprap_call_duration_seconds")
}

func TestCallDurationRefusesBadBuckets(t *testing.T) {
	for name, buckets := range map[string][]float64{
		"decreasing": {1, 0.5},
		"repeated":   {1, 1},
		"NaN":        {math.NaN()},
		"infinite":   {1, math.Inf(1)},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := riprapprom.NewCallDuration(riprapprom.CallDurationConfig{Buckets: buckets})
			var ce *resilience.ConfigError
			require.True(t, errors.As(err, &ce), "got %v", err)
			assert.Equal(t, "Buckets", ce.Field)
			assert.Equal(t, "must be finite and strictly increasing", ce.Rule)
		})
	}
}
