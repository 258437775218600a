package timeout_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/timeout"
)

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name  string
		cfg   timeout.Config
		field string
		rule  string
		value any
	}{
		{"zero timeout", timeout.Config{Name: "fx"}, "Timeout", "must be positive", time.Duration(0)},
		{"negative timeout", timeout.Config{Timeout: -time.Second}, "Timeout", "must be positive", -time.Second},
		{"unknown mode", timeout.Config{Timeout: time.Second, Mode: 9}, "Mode", "must be Cooperative or Abandon", timeout.Mode(9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			to, err := timeout.New(tt.cfg)
			assert.Nil(t, to)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "timeout", ce.Component)
			assert.Equal(t, tt.cfg.Name, ce.Name)
			assert.Equal(t, tt.field, ce.Field)
			assert.Equal(t, tt.rule, ce.Rule)
			assert.Equal(t, tt.value, ce.Value)
		})
	}
}

// After cannot return an error: a duration that is not positive makes every
// call fail with the ConfigError New would have returned, without running
// the function and without panicking.
func TestAfterWithABadDurationFailsItsCalls(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		to := timeout.After(d)
		require.NotNil(t, to)
		ran := false
		var err error
		assert.NotPanics(t, func() {
			_, err = resilience.Execute(context.Background(), func(context.Context) (int, error) { ran = true; return 1, nil }, to)
		})
		assert.False(t, ran, "d=%v: the function must not run", d)
		var ce *resilience.ConfigError
		require.ErrorAs(t, err, &ce, "d=%v", d)
		assert.Equal(t, "Timeout", ce.Field)
		assert.Equal(t, d, ce.Value)
	}
}

// The zero Timeout and a nil *Timeout report the mistake on each call.
func TestUnconfiguredTimeoutsFailTheirCalls(t *testing.T) {
	fn := func(context.Context) error { return nil }
	var zero timeout.Timeout
	var ce *resilience.ConfigError
	require.ErrorAs(t, resilience.Run(context.Background(), fn, &zero), &ce)
	assert.Equal(t, "Timeout", ce.Field)

	var nilTimeout *timeout.Timeout
	err := resilience.Run(context.Background(), fn, nilTimeout)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nil *Timeout")
	assert.Equal(t, timeout.Snapshot{}, nilTimeout.Snapshot())
}

func TestModeString(t *testing.T) {
	assert.Equal(t, "cooperative", timeout.Cooperative.String())
	assert.Equal(t, "abandon", timeout.Abandon.String())
	assert.Equal(t, "Mode(7)", timeout.Mode(7).String())
	_, err := timeout.New(timeout.Config{Timeout: time.Second, Name: "fx", Mode: 7})
	assert.EqualError(t, err, `timeout "fx": Mode must be Cooperative or Abandon, got Mode(7)`, "the text people read")
}
