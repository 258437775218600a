package ratelimit

import (
	"errors"

	"github.com/riprap-go/riprap/resilience"
)

// ErrLimited is the sentinel every rate-limit rejection matches with
// errors.Is.
var ErrLimited = errors.New("ratelimit: rate limited")

// ErrExceedsBurst is matched by the error of a request for more tokens than
// the burst: it can never be admitted, however long the caller waits.
var ErrExceedsBurst = errors.New("ratelimit: n exceeds burst")

// ErrTooManyKeys is the sentinel of a [Keyed] refusal of a new key because
// MaxKeys keys are tracked and none of them is idle.
var ErrTooManyKeys = errors.New("ratelimit: too many keys")

// ErrNilLimiter is returned by every call through a guard built over a nil
// *[Limiter] or *[Keyed], or by [ByKey] without a key function: a
// programmer's error, reported on each call rather than by a panic.
var ErrNilLimiter = errors.New("ratelimit: nil limiter")

// policyName is the Policy of this package's rejections and events.
const policyName = "ratelimit"

func configError(name, field, rule string, v any) error {
	return &resilience.ConfigError{Component: policyName, Name: name, Field: field, Rule: rule, Value: v}
}
