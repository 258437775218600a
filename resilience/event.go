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

// Kinds is a set of [EventKind]s, as a bit mask.
type Kinds uint32

// AllKinds is every kind of event.
const AllKinds Kinds = 1<<(EventFallback+1) - 2

// KindsOf returns the set of the given kinds.
func KindsOf(kinds ...EventKind) Kinds {
	var s Kinds
	for _, k := range kinds {
		s |= 1 << k
	}
	return s
}

// Has reports whether k is in s.
func (s Kinds) Has(k EventKind) bool { return s&(1<<k) != 0 }

// Listener receives the events of the kinds it subscribes to.
//
// State changes ([EventStateChange], [EventLimitChange]) reach a listener
// exactly once each, in the order the policy made them, never while the
// policy holds a lock; they may be delivered by another caller's goroutine.
// Per-call events (outcomes, rejections, retries, timeouts, fallbacks) are
// delivered on the goroutine of the call they describe, as it happens, and
// never queued; a listener that does not subscribe to them costs a call
// nothing. So memory held for undelivered events never depends on the call
// rate (see [Dispatcher]).
//
// Func must be safe for concurrent use, fast, and must not panic: its panic
// is raised in whichever goroutine delivers the event. A listener may call
// back into the policy (read its State or Snapshot).
type Listener struct {
	// Kinds are the kinds delivered; zero means all.
	Kinds Kinds
	// Func receives them; a nil Func receives nothing.
	Func func(Event)
}

// OnEvent returns a listener receiving every kind of event.
func OnEvent(f func(Event)) Listener { return Listener{Kinds: AllKinds, Func: f} }

// OnStateChange returns a listener receiving state and limit changes only,
// what most users want (a breaker opened, a target turned unhealthy): a
// call pays nothing for it.
func OnStateChange(f func(Event)) Listener {
	return Listener{Kinds: KindsOf(EventStateChange, EventLimitChange), Func: f}
}

// OnKinds returns a listener receiving the given kinds.
func OnKinds(f func(Event), kinds ...EventKind) Listener {
	return Listener{Kinds: KindsOf(kinds...), Func: f}
}

func (l Listener) wants(k EventKind) bool {
	return l.Func != nil && (l.Kinds == 0 || l.Kinds.Has(k))
}

// Listeners is a list of listeners, as held in a policy's configuration.
type Listeners []Listener

// Emit delivers e to every listener subscribed to its kind, in order.
func (ls Listeners) Emit(e Event) { ls.emit(&e) }

// emit is Emit without a copy of e for each function it passes through:
// an Event is some 200 bytes, and a per-call event is built on every call.
func (ls Listeners) emit(e *Event) {
	for _, l := range ls {
		if l.wants(e.Kind) {
			l.Func(*e)
		}
	}
}

// kinds returns the union of the kinds ls subscribes to.
func (ls Listeners) kinds() Kinds {
	var s Kinds
	for _, l := range ls {
		switch {
		case l.Func == nil:
		case l.Kinds == 0:
			s |= AllKinds
		default:
			s |= l.Kinds
		}
	}
	return s
}
