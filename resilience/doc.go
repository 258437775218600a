// Package resilience is the core of riprap: the [Func] and [Policy] types
// every policy shares, [Pipeline] composition, the three-way [Outcome] of a
// call, rejections, panics, and events.
//
// # Composition
//
// A [Policy] decorates a [Func]. [NewPipeline] composes policies with the
// first one outermost, and a pipeline is itself a Policy. Wrap a function
// once and call the result from any number of goroutines:
//
//	p := resilience.Must(resilience.NewPipeline(limit, br, retry, deadline))
//	transfer := p.Wrap(bank.Transfer)
//	receipt, err := transfer(ctx)
//
// # Outcomes
//
// Policies that learn from calls (breakers, retry budgets, adaptive limits)
// judge each one as [Success], [Failure] or [Ignored]. [DefaultOutcome]
// ignores the caller's own cancellation and rejections by other policies, so
// that neither can trip a breaker; a [Classifier] can look at the result too
// (an HTTP 503 response is a failure without an error).
//
// # Rejections
//
// A call refused before it reached the dependency returns an error for which
// [IsRejected] is true, that matches its package's sentinel with errors.Is,
// and that carries the refusing policy's name and, where known, how long to
// wait ([RetryAfter]). For a payment, that is the difference between "not
// attempted, safe to retry" and "outcome unknown".
//
// # Panics
//
// A panic inside a guarded function is recorded as a failure by the policies
// that observe outcomes, then re-raised in the caller's goroutine; when the
// function ran on another goroutine it crosses over as a [*PanicError].
//
// # Events
//
// Policies report state changes, rejections, outcomes, retries and timeouts
// to [Listener] functions, synchronously, in order, and never while holding
// a lock ([Dispatcher] implements that contract for stateful policies).
// [SlogListener] turns them into log/slog records.
//
// # Bad configuration
//
// Constructors validate their configuration and return an error naming the
// field and the rule; [Must] turns such an error into a panic at start-up
// for code that prefers it. Nothing panics at call time because of a bad
// argument: a nil function yields [ErrNilFunc].
package resilience
