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
//   - The retry policy's successful first attempt reads no clock and
//     allocates nothing. The clock is read before the first attempt only
//     when MaxDuration is set (the duration counts from the start of the
//     call, attempts included) or a Budget is set (to count the request);
//     otherwise only once a retry is considered.
//   - A Retry-After hint on a failure lengthens the next wait up to
//     MaxRetryAfter; a rejection (an inner breaker or limiter refusing) is
//     retried only when it carries a hint no longer than MaxRetryAfter that
//     fits the remaining time.
//   - Jittered delays never exceed the strategy's Max; proportional jitter
//     is clamped to it rather than overshooting as gRPC's does.
package backoff
