// Package riprap is a framework of resilience policies for Go — circuit
// breaker, timeout, retry with backoff, rate limiting, bulkhead, health
// checks and fallback — written with generics so that they compose, type
// safe, around any call of the form func(context.Context) (T, error).
//
// This package holds only this overview; the code lives in sub-packages.
//
// # The pieces
//
//   - [github.com/riprap-go/riprap/resilience]: the core. [github.com/riprap-go/riprap/resilience.Func],
//     [github.com/riprap-go/riprap/resilience.Policy], [github.com/riprap-go/riprap/resilience.Pipeline], the three-way outcome of a
//     call (success, failure, ignored), rejection errors, panics, events and
//     a log/slog listener.
//   - [github.com/riprap-go/riprap/resilience/timeout]: bounds one call.
//   - [github.com/riprap-go/riprap/resilience/breaker]: a circuit breaker
//     (closed, open, half-open) whose state is shared by calls of any result
//     type, with a registry.
//   - [github.com/riprap-go/riprap/resilience/backoff]: delay strategies, the
//     retry policy and a retry budget against retry storms.
//   - [github.com/riprap-go/riprap/resilience/ratelimit]: a lock-free rate
//     limiter, keyed limits, a bulkhead and HTTP 429 middleware.
//   - [github.com/riprap-go/riprap/resilience/health] and
//     [github.com/riprap-go/riprap/resilience/fallback]: proactive health
//     checks that drive breakers, and fallbacks for when all else fails.
//   - [github.com/riprap-go/riprap/payments/gateway]: the payment gateway
//     riprap exists for, over the money and service types of
//     [github.com/riprap-go/riprap/payments]; its live demo is
//     examples/gateway (go run ./examples/gateway).
//
// # Composing policies
//
// A pipeline is built once and called from any number of goroutines. The
// first policy is the outermost:
//
//	fx := resilience.Must(resilience.NewPipeline(limit, br, retry, deadline))
//	getQuote := fx.Wrap(fetchQuote) // a func(context.Context) (Quote, error)
//
// The order matters, and the recommended one, from the outside in, is:
//
//  1. rate limit or bulkhead: refuse excess work before it costs anything;
//  2. circuit breaker: refuse calls to a dependency known to be failing;
//  3. retry: try again after a failure, with backoff;
//  4. timeout: bound each attempt.
//
// The retry sits inside the breaker in that list so that an open breaker
// stops the retries at once; put it outside instead when each attempt should
// be judged by the breaker separately. The timeout sits inside the retry so
// that it bounds one attempt, not all of them together; a timeout outside the
// retry bounds the whole operation. A fallback, when there is one, goes
// outermost, so that it also answers for rejections.
//
// # Rejections and failures
//
// A call refused before it reached the dependency returns an error for which
// [github.com/riprap-go/riprap/resilience.IsRejected] is true; for a payment that means "not attempted,
// safe to retry later", and [github.com/riprap-go/riprap/resilience.RetryAfter] says when. Any other
// error is a failure, whose effect on the dependency may be unknown.
//
// # Time
//
// Every policy takes a clock.Clock (github.com/benbjohnson/clock) in its
// configuration, so tests move time with a mock clock or run inside a
// testing/synctest bubble; no policy sleeps in real time in a test.
package riprap
