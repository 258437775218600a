package resilience

import (
	"time"
)

// EventKind says what an [Event] reports.
type EventKind uint8

// The kinds of events policies emit.
const (
	// EventStateChange: a stateful policy moved From one state To another
	// (breaker closed → open, health healthy → unhealthy).
	EventStateChange EventKind = iota + 1
	// EventRejection: a call was refused before reaching the dependency.
	EventRejection
	// EventOutcome: a call finished and was judged (Outcome, Duration, Err).
	EventOutcome
	// EventRetry: a retry policy is about to wait Delay before Attempt.
	EventRetry
	// EventTimeout: a timeout policy's own deadline fired.
	EventTimeout
	// EventLimitChange: a limit (rate, concurrency) was changed.
	EventLimitChange
	// EventPanic: a guarded function panicked where nobody could receive
	// the panic (a function abandoned by a timeout). Err is a *PanicError.
	EventPanic
	// EventFallback: a fallback answered instead of the call. Err is the
	// call's error; Reason names the alternative that answered.
	EventFallback
)

var kindNames = [...]string{"unknown", "state_change", "rejection", "outcome", "retry", "timeout", "limit_change", "panic", "fallback"}

// String returns the kind in snake case ("state_change").
func (k EventKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return kindNames[0]
}

// Event is one thing a policy reports to its listeners. Fields that do not
// apply to a kind are left zero.
type Event struct {
	Kind   EventKind
	Policy string // kind of policy: "breaker", "retry", "timeout", …
	Name   string // instance name, may be empty
	Time   time.Time

	From, To string // EventStateChange: the states, as their String forms
	// Degraded is set on an EventStateChange into a state that refuses or
	// degrades traffic (breaker open, target unhealthy); the slog listener
	// logs those at Warn.
	Degraded bool
	Reason   string // why: "failure rate 0.62 ≥ 0.50", "forced", "health", …

	Outcome  Outcome       // EventOutcome
	Duration time.Duration // EventOutcome: how long the call took
	Attempt  int           // EventRetry: the attempt about to start (2 for the first retry)
	Delay    time.Duration // EventRetry: the wait before it; EventTimeout: the deadline
	Err      error         // the error involved, if any

	// Detail carries policy-specific data, typically the policy's Snapshot
	// at the time of a state change. It is logged as a group when it
	// implements [log/slog.LogValuer].
	Detail any
}

// Listener receives events. Policies call listeners synchronously, in the
// order events happen for one policy instance, and never while holding a
// lock, so a listener may call back into the policy (read its State or
// Snapshot). A listener must be safe for concurrent use: calls from
// different goroutines can arrive at once. Keep listeners fast; a slow one
// slows the calls it observes. A listener must not panic: its panic is
// raised in whichever goroutine delivers the event, which may be a policy's
// background goroutine (a health probe loop), where nothing recovers it.
type Listener func(Event)

// Listeners is a list of listeners, as held in a policy's configuration.
type Listeners []Listener

// Emit delivers e to every listener in order. Nil listeners are skipped.
func (ls Listeners) Emit(e Event) {
	for _, l := range ls {
		if l != nil {
			l(e)
		}
	}
}
