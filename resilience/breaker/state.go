package breaker

import "fmt"

// State is the state of a [Breaker].
//
// The automatic states are Closed -> Open -> HalfOpen -> Closed (or Open
// again), driven by calls and the clock.
//
// HeldOpen is entered by [Breaker.HoldOpen], on an outside signal such as a
// health check finding the dependency down, and left by [Breaker.Release]
// (to HalfOpen or Closed), by [Breaker.Reset] or by a manual state.
//
// ForcedOpen, Disabled and MetricsOnly are a person's commands: they are
// entered only by [Breaker.ForceOpen], [Breaker.ForceClosed] and
// [Breaker.MetricsOnly], and left only by another of them or by
// [Breaker.Reset], which always leads to Closed. A manual state always wins
// over a hold: it replaces one, HoldOpen leaves it alone, and Release never
// undoes it.
type State uint8

// The states of a breaker.
const (
	// Closed admits every call and counts outcomes against the trip rules.
	Closed State = iota
	// Open refuses every call until the open wait has elapsed.
	Open
	// HalfOpen admits up to MaxProbes calls at once to test the dependency.
	HalfOpen
	// ForcedOpen refuses every call until told otherwise.
	ForcedOpen
	// Disabled admits every call and never opens; outcomes are only totalled.
	Disabled
	// MetricsOnly admits every call and counts outcomes like Closed; when a
	// trip rule holds it reports the opening it would make (an
	// [resilience.EventStateChange] from metrics_only to metrics_only whose
	// Reason starts with "would open") and starts a fresh window.
	MetricsOnly
	// HeldOpen refuses every call, like ForcedOpen, because an outside
	// signal says the dependency is down ([Breaker.HoldOpen]); unlike a
	// person's ForcedOpen, its rejections carry a RetryAfter (the next
	// health probe) and [Breaker.Release] ends it.
	HeldOpen
)

var stateNames = [...]string{"closed", "open", "half_open", "forced_open", "disabled", "metrics_only", "held_open"}

// String returns the state in snake case ("half_open"), as in events.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// MarshalText encodes the state as its String form, for JSON status pages.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a state from its String form.
func (s *State) UnmarshalText(b []byte) error {
	for i, name := range stateNames {
		if name == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("breaker: unknown state %q", b)
}

// counts reports whether the state feeds outcomes to the trip rules.
func (s State) counts() bool { return s == Closed || s == MetricsOnly }

// refuses reports whether the state refuses every call.
func (s State) refuses() bool { return s == Open || s == ForcedOpen || s == HeldOpen }

// manual reports whether a person set the state.
func (s State) manual() bool { return s == ForcedOpen || s == Disabled || s == MetricsOnly }

// countsRejections reports whether a phase in the state counts
// rejections, rather than successes, in its lock-free adder.
func (s State) countsRejections() bool { return s.refuses() || s == HalfOpen }
