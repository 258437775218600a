package riprapredis

import (
	"errors"

	"github.com/riprap-go/riprap/resilience"
)

// component is the Component of this package's configuration errors and
// the Policy of its events and rejections.
const component = "riprapredis"

// Sentinel errors, matched with errors.Is.
var (
	// ErrUnavailable is the reason of a rejection by a [Limiter] configured
	// to fail closed while Redis cannot be reached: the call was not
	// attempted and is safe to retry.
	ErrUnavailable = errors.New("riprapredis: redis unavailable")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("riprapredis: already started")
	// ErrClosed is returned by Start after Close.
	ErrClosed = errors.New("riprapredis: closed")
)

func configError(name, field, rule string, v any) error {
	return &resilience.ConfigError{Component: component, Name: name, Field: field, Rule: rule, Value: v}
}
