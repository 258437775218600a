package resilience_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type state int

func (s state) String() string { return "state " + fmt.Sprint(int(s)) }

func TestConfigErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *resilience.ConfigError
		want string
	}{
		{"named", &resilience.ConfigError{Component: "breaker", Name: "bank", Field: "FailureRate", Rule: "must be in (0, 1]", Value: 1.5},
			`breaker "bank": FailureRate must be in (0, 1], got 1.5`},
		{"unnamed", &resilience.ConfigError{Component: "ratelimit", Field: "burst", Rule: "must not be negative", Value: -1},
			`ratelimit: burst must not be negative, got -1`},
		{"duration", &resilience.ConfigError{Component: "timeout", Field: "Timeout", Rule: "must be positive", Value: -2 * time.Second},
			`timeout: Timeout must be positive, got -2s`},
		{"string value quoted", &resilience.ConfigError{Component: "health", Field: "Path", Rule: "must start with /", Value: "x y"},
			`health: Path must start with /, got "x y"`},
		{"Stringer", &resilience.ConfigError{Component: "breaker", Field: "Initial", Rule: "must be a known state", Value: state(9)},
			`breaker: Initial must be a known state, got state 9`},
		{"nil value", &resilience.ConfigError{Component: "breaker", Field: "Clock", Rule: "must not be nil"},
			`breaker: Clock must not be nil, got nil`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
		})
	}
	var nilErr *resilience.ConfigError
	assert.Equal(t, "<nil>", nilErr.Error())
}

func TestConfigErrorMatchesByFields(t *testing.T) {
	err := fmt.Errorf("gateway: bank policies: %w", errors.Join(
		errors.New("unrelated"),
		&resilience.ConfigError{Component: "bulkhead", Name: "bank", Field: "MaxConcurrent", Rule: "must be at least 1", Value: 0},
	))
	var ce *resilience.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "bulkhead", ce.Component)
	assert.Equal(t, "bank", ce.Name)
	assert.Equal(t, "MaxConcurrent", ce.Field)
	assert.Equal(t, "must be at least 1", ce.Rule)
	assert.Equal(t, 0, ce.Value)
	assert.False(t, errors.As(errors.New("breaker: bad"), &ce), "plain errors are not ConfigErrors")
}
