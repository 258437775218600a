// Package backoff decides how long to wait between attempts, retries
// guarded functions, and keeps retries from multiplying load in an outage.
//
// A [Strategy] maps an attempt number to a delay. [Constant] and
// [NewExponential] build them; the exponential schedule is capped and can be
// jittered ([FullJitter], [EqualJitter], [DecorrelatedJitter],
// [ProportionalJitter]). Strategies hold no per-sequence state, so one value
// serves any number of goroutines and any result type, including a
// breaker's growing open wait.
//
// [NewRetry] returns a [resilience.Policy] that runs a function again while
// its failures are retryable, attempts and time remain, and the caller's
// context allows the wait. A function stops retrying at once by returning
// [Permanent](err). When retrying ends on an error, the error is a
// [*RetryError] that says how many attempts ran and wraps the last error.
//
// A [Budget], shared by many retry policies, allows retries only while they
// stay under a share of recent requests plus a small floor per second, so
// that a failing dependency sees at most that much extra traffic.
//
// Decisions:
//
//   - A successful first attempt allocates nothing and reads no clock,
//     unless MaxDuration is set (it counts from the start of the call, first
//     attempt included) or a Budget is (it counts the request). Otherwise
//     the clock is read only once a retry is considered.
//   - The final error is always a *RetryError, even when the caller's
//     context ended the retries: errors.Is still finds context.Canceled,
//     so outer policies judge the call as the caller's cancellation.
//   - A Budget counts first attempts as requests and each retry once; a
//     ratio of exactly zero cannot be configured (zero means the default).
//   - A Retry-After hint on a failure lengthens the next wait up to
//     MaxRetryAfter; a rejection (an inner breaker or limiter refusing) is
//     retried only when it carries a hint no longer than MaxRetryAfter that
//     fits the remaining time.
//   - Jittered delays never exceed the strategy's Max; proportional jitter
//     is clamped to it rather than overshooting as gRPC's does.
package backoff
