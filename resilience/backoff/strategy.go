package backoff

import (
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// policyName is the Component of configuration errors.
const policyName = "backoff"

// Strategy computes delays: before a retry, or before a breaker that opened
// again may try half-open. It is non-generic so one schedule serves calls
// of any result type.
//
// attempt counts from 1 (the first retry, or the first re-open); prev is the
// delay this strategy returned for the previous attempt of the same sequence
// (0 before the first), which stateful-looking schedules such as
// decorrelated jitter need. Implementations are safe for concurrent use and
// keep no per-sequence state of their own.
type Strategy interface {
	Delay(attempt int, prev time.Duration) time.Duration
}

// constant waits the same time before every attempt.
type constant time.Duration

// Constant returns a strategy that waits d before every attempt. A zero d
// retries at once, and so does a negative one: a delay cannot be negative,
// and a constructor that could only fail on such a slip returns no error.
// For a constant delay with jitter, use [NewExponential] with a Multiplier
// of 1.
func Constant(d time.Duration) Strategy {
	return constant(max(d, 0))
}

// Delay returns the constant delay.
func (c constant) Delay(int, time.Duration) time.Duration { return time.Duration(c) }

// configError reports a configuration field that breaks a rule.
func configError(name, field, rule string, value any) error {
	return &resilience.ConfigError{Component: policyName, Name: name, Field: field, Rule: rule, Value: value}
}

// Bound returns the longest delay s can return, when s reports it: the
// strategies of [NewExponential] (their Max, jitter included) and
// [Constant] do, and so does any Strategy with a method
// MaxDelay() time.Duration. ok is false for one that does not, or for a
// nil s. A caller that must fit a whole sequence of attempts into a
// deadline (a claim, a lease) sums such bounds.
func Bound(s Strategy) (d time.Duration, ok bool) {
	b, ok := s.(interface{ MaxDelay() time.Duration })
	if !ok {
		return 0, false
	}
	return b.MaxDelay(), true
}

// MaxDelay returns the constant delay, which is also the longest.
func (c constant) MaxDelay() time.Duration { return time.Duration(c) }
