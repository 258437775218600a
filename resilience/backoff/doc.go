// Package backoff decides how long to wait between attempts, retries
// calls, and keeps retries from multiplying load in an outage.
//
// A [Strategy] maps an attempt number to a delay. [Constant] and
// [NewExponential] build them; the exponential schedule is capped and can be
// jittered ([FullJitter], [EqualJitter], [DecorrelatedJitter],
// [ProportionalJitter]). Strategies hold no per-sequence state, so one value
// serves any number of goroutines and any result type, including a
// breaker's growing open wait.
//
// A [*Retry] is a [resilience.Guard]: it goes into a pipeline of any result
// type without a type argument and runs the rest of the pipeline again
// while its error is retryable, attempts and time remain, and the caller's
// context allows the wait.
//
//	retry, err := backoff.NewRetry(backoff.RetryConfig{MaxAttempts: 4})
//	p := resilience.NewPipeline[Receipt](retry, br, timeout.After(2*time.Second))
//
// A call stops retrying at once by returning [Permanent](err). A result
// that is a failure without an error (an HTTP 503 response) is retried when
// the pipeline's classifier judges it so ([resilience.Pipeline.WithClassifier]).
// When retrying ends on an error, the error is a [*RetryError] that says how
// many attempts ran and wraps the last error.
//
// A [Budget], shared by many retries, allows retries only while they stay
// under a share of recent requests plus a small floor per second, so that a
// failing dependency sees at most that much extra traffic.
//
// # Retry and breaker
//
// The order of the two in a pipeline decides what each sees.
//
// A breaker inside the retry, NewPipeline[T](retry, breaker, …), the usual
// order, judges every attempt. Once it opens, its rejection ends the
// retries at once, with no wait and no further call: a rejection is retried
// only when it carries a Retry-After hint no longer than MaxRetryAfter whose
// wait ends within MaxDuration and before the caller's deadline (an open
// breaker that will admit a probe in time); the retry then waits that long
// and the next attempt is the probe. The final [*RetryError] wraps the
// rejection.
//
// That order alone learns of an opened breaker only at the next attempt,
// after the wait: a call whose attempt failed while the breaker opened (a
// timeout in a hang, say) still sleeps its backoff before being refused.
// [RetryConfig.Admit] closes that gap: it looks at the inner guards before
// each wait, and a refusal ends the retries at once, with the last
// attempt's error and [ErrRefusedAhead] — not a rejection, since that
// attempt may have reached the dependency. Calls already inside an attempt
// are not interrupted by either order; their own timeout ends them.
//
// A breaker outside the retry, NewPipeline[T](breaker, retry, …), sees one
// outcome per call, after all its attempts: a call that succeeded on a
// retry is a success, one that failed every attempt is one failure. An open
// breaker refuses the call before any attempt. Use it when the breaker
// should judge calls as the caller experiences them.
//
// Decisions:
//
//   - A successful first attempt allocates nothing and reads no clock,
//     unless MaxDuration is set (it counts from the start of the call, first
//     attempt included) or a Budget is (it counts the request). Otherwise
//     the clock is read only once a retry is considered.
//   - The final error is a *RetryError, even when the caller's context ended
//     the retries: errors.Is still finds context.Canceled, so outer guards
//     judge the call as the caller's cancellation. The one exception is an
//     error the pipeline's classifier judged a success, which passes
//     through unchanged.
//   - A result judged a failure that is still failing when the retries end
//     comes back as a *RetryError; the pipeline then returns the zero
//     result with it.
//   - A Budget counts first attempts as requests and each retry once; a
//     ratio of exactly zero cannot be configured (zero means the default).
//   - A Retry-After hint on a failure lengthens the next wait up to
//     MaxRetryAfter.
//   - Jittered delays never exceed the strategy's Max; proportional jitter
//     is clamped to it rather than overshooting as gRPC's does.
//   - [Retry.Snapshot] and [Budget.Snapshot] count retries for metrics;
//     [resilience.EventRetry] events cost a call nothing unless a listener
//     subscribes to them.
package backoff
