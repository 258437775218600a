package health_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// configErrors returns every *resilience.ConfigError joined in err.
func configErrors(t *testing.T, err error) []resilience.ConfigError {
	t.Helper()
	var out []resilience.ConfigError
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var ce *resilience.ConfigError
		require.True(t, errors.As(e, &ce), "not a ConfigError: %v", e)
		out = append(out, *ce)
	}
	return out
}

func TestConfigErrors(t *testing.T) {
	probe := func(context.Context) error { return nil }
	one := []health.Target{{Name: "a", Probe: probe}}
	type field struct{ name, field, rule string }
	tests := []struct {
		name    string
		cfg     health.Config
		targets []health.Target
		want    []field
	}{
		{"zero interval", health.Config{}, one, []field{{"", "Interval", "must be positive"}}},
		{"negative timeout", health.Config{Interval: time.Second, Timeout: -1}, one, []field{{"", "Timeout", "must not be negative"}}},
		{"unhealthy interval too long", health.Config{Interval: time.Second, UnhealthyInterval: time.Minute}, one,
			[]field{{"", "UnhealthyInterval", "must be at most Interval (1s)"}}},
		{"negative unhealthy interval", health.Config{Interval: time.Second, UnhealthyInterval: -1}, one,
			[]field{{"", "UnhealthyInterval", "must not be negative"}}},
		{"jitter", health.Config{Interval: time.Second, Jitter: time.Second}, one,
			[]field{{"", "Jitter", "must be less than Interval (1s)"}}},
		{"negative jitter", health.Config{Interval: time.Second, Jitter: -1}, one, []field{{"", "Jitter", "must not be negative"}}},
		{"thresholds", health.Config{Interval: time.Second, FailuresToUnhealthy: -1, SuccessesToHealthy: -2}, one,
			[]field{{"", "FailuresToUnhealthy", "must not be negative"}, {"", "SuccessesToHealthy", "must not be negative"}}},
		{"no targets", health.Config{Interval: time.Second}, nil, []field{{"", "targets", "must not be empty"}}},
		{"duplicate names", health.Config{Interval: time.Second}, []health.Target{{Name: "a", Probe: probe}, {Name: "a", Probe: probe}},
			[]field{{"a", "targets[1].Name", "must be unique"}}},
		{"missing name and probe", health.Config{Interval: time.Second}, []health.Target{{}},
			[]field{{"", "targets[0].Name", "must not be empty"}, {"", "targets[0].Probe", "must not be nil"}}},
		{"negative call timeout", health.Config{Interval: time.Second}, []health.Target{{Name: "a", Probe: probe, CallTimeout: -1}},
			[]field{{"a", "targets[0].CallTimeout", "must not be negative"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := health.New(tt.cfg, tt.targets...)
			assert.Nil(t, c)
			require.Error(t, err)
			var got []field
			for _, ce := range configErrors(t, err) {
				assert.Equal(t, "health", ce.Component)
				got = append(got, field{ce.Name, ce.Field, ce.Rule})
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// Issue 12, item 2: a probe must not judge a dependency by a stricter bar
// than the calls it protects. An explicit probe timeout shorter than a
// target's call timeout is refused, naming both fields.
func TestTimeoutShorterThanTheCallTimeoutIsRefused(t *testing.T) {
	_, err := health.New(health.Config{Interval: time.Second, UnhealthyInterval: 250 * time.Millisecond, Timeout: 125 * time.Millisecond},
		health.Target{Name: "fx", Probe: healthy, CallTimeout: 100 * time.Millisecond},
		health.Target{Name: "bank", Probe: healthy, CallTimeout: 2 * time.Second})
	require.Error(t, err)
	ces := configErrors(t, err)
	require.Len(t, ces, 1, "fx's calls time out sooner than its probe: fine")
	ce := ces[0]
	assert.Equal(t, "bank", ce.Name)
	assert.Equal(t, "Timeout", ce.Field)
	assert.Contains(t, ce.Rule, "targets[1].CallTimeout (2s)")
	assert.Equal(t, 125*time.Millisecond, ce.Value)
	assert.Contains(t, err.Error(), `health "bank": Timeout must be at least targets[1].CallTimeout (2s)`)

	c, err := health.New(health.Config{Interval: time.Second, Timeout: 2 * time.Second},
		health.Target{Name: "bank", Probe: healthy, CallTimeout: 2 * time.Second})
	require.NoError(t, err, "equal bars are consistent, and a timeout may exceed the interval")
	s, _ := c.Lookup("bank")
	assert.Equal(t, 2*time.Second, s.ProbeTimeout)
}

// Unset, the probe timeout is half the shortest interval, raised to the
// target's call timeout when that is longer.
func TestProbeTimeoutDefaults(t *testing.T) {
	c, err := health.New(health.Config{Interval: time.Second, UnhealthyInterval: 250 * time.Millisecond},
		health.Target{Name: "plain", Probe: healthy},
		health.Target{Name: "fast", Probe: healthy, CallTimeout: 50 * time.Millisecond},
		health.Target{Name: "bank", Probe: healthy, CallTimeout: 2 * time.Second})
	require.NoError(t, err)
	want := map[string]time.Duration{"plain": 125 * time.Millisecond, "fast": 125 * time.Millisecond, "bank": 2 * time.Second}
	for _, s := range c.Snapshot() {
		assert.Equal(t, want[s.Name], s.ProbeTimeout, s.Name)
	}
}
