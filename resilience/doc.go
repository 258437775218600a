// Package resilience is the core of riprap: the [Guard] interface every
// policy implements, [Pipeline] and [Chain] composition, the three-way
// [Outcome] of a call, rejections, configuration errors, panics and events.
//
// # Guards and pipelines
//
// A [Guard] is one resilience behaviour that does not need to know what a
// call returns: breakers, limiters, bulkheads, health gates, timeouts and
// retries are Guards, so one breaker protects every call to the bank,
// whatever its result type. A guard runs the rest of the call through a
// [Next], once, many times or not at all.
//
// [NewPipeline] composes guards for calls returning T, the first one
// outermost, and is built once. [Pipeline.Execute] runs a fresh closure per
// call without rebuilding anything, so per-call arguments travel in the
// closure; [Pipeline.Wrap] makes a [Func] to call later:
//
//	bank := resilience.NewPipeline[Receipt](limit, br, retry, deadline)
//	receipt, err := bank.Execute(ctx, func(ctx context.Context) (Receipt, error) {
//		return client.Transfer(ctx, order)
//	})
//
// Operations that return only an error run through a [Chain]
// ([NewChain], [Chain.Run]). [Execute] and [Run] are the one-shot forms.
// Pipelines and chains are Guards themselves, so they nest.
//
// A policy that needs the result type (a fallback) is a Guard too: it reads
// and sets the result with [Result] and [SetResult]. A guard running
// attempts in parallel (a hedge) gives each a [Next.Fork] and hands back the
// winner with [Next.Adopt]. A [Policy] written in the decorator form joins a
// pipeline of its type through [Adapt].
//
// A guard whose work is all before and after the call (a breaker, a
// limiter, a bulkhead, a health gate, a throttle) is also a [Stepper]: a
// pipeline made only of Steppers runs each one's Enter, the function, then
// each Exit, without the record and Next a call needs otherwise.
//
// # Outcomes and classifiers
//
// Policies that learn from calls (breakers, retry budgets, adaptive limits)
// judge each one as [Success], [Failure] or [Ignored]. [DefaultOutcome]
// ignores rejections by other policies and the caller's own cancellation,
// so that neither trips a breaker, and counts a caller's deadline that
// passes in flight as a failure. [ErrorClassifier] and [Classifier] change
// the rules; [Pipeline.WithClassifier] judges results too (an HTTP 503
// response is a failure without an error), telling the guards through a
// [*Judged] error while the caller still sees what the function returned.
//
// # Rejections
//
// A call refused before it reached the dependency returns an error for which
// [IsRejected] is true, that matches its package's sentinel with errors.Is,
// and that carries the refusing policy's name and, where known, how long to
// wait ([RetryAfter]). For a payment, that is the difference between "not
// attempted, safe to retry" and "outcome unknown".
//
// # Bad configuration and bad arguments
//
// Constructors that validate a Config return a [*ConfigError] naming the
// component, the field, the rule and the value; match it with errors.As.
// Nothing panics because of a bad argument: a nil function makes calls
// fail with [ErrNilFunc], a nil guard with [ErrNilPolicy].
//
// # Panics
//
// A panic inside a guarded function passes through the pipeline unchanged;
// policies that observe outcomes record it as a failure first. When the
// function ran on another goroutine it crosses over as a [*PanicError] and
// is raised again in the caller's goroutine.
//
// # Events
//
// Policies report to a [Listener] the kinds of [Event] it subscribes to:
// [OnStateChange] for state and limit changes, [OnKinds] for a choice,
// [OnEvent] for all. State changes arrive exactly once, in order, never
// under a lock; per-call events (outcomes, rejections, retries) arrive on
// the caller's goroutine and are never queued, and a call pays nothing for
// kinds nobody subscribed to. [Dispatcher] implements that contract for
// policies. [SlogListener] turns events into log/slog records.
// The resiliencetest package records events and scripts failures in tests.
package resilience
