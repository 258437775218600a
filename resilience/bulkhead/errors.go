package bulkhead

import (
	"errors"

	"github.com/riprap-go/riprap/resilience"
)

// ErrFull is the sentinel of every [Bulkhead] rejection: no slot was free
// and the queue was full, absent, or waited on for too long.
var ErrFull = errors.New("bulkhead: full")

// ErrOverLimit is the sentinel of an [Adaptive] rejection: the calls in
// flight have reached the current adaptive limit.
var ErrOverLimit = errors.New("bulkhead: adaptive concurrency limit reached")

// ErrNil is returned by every call through a nil *[Bulkhead] or *[Adaptive]
// used as a guard: a programmer's error, reported on each call rather than
// by a panic.
var ErrNil = errors.New("bulkhead: nil Bulkhead or Adaptive")

// The Policy of the rejections and events of each type.
const (
	bulkheadPolicy = "bulkhead"
	adaptivePolicy = "adaptive"
)

func configError(name, field, rule string, v any) error {
	return &resilience.ConfigError{Component: bulkheadPolicy, Name: name, Field: field, Rule: rule, Value: v}
}
