// Package riprap is a framework of resilience policies for Go — circuit
// breaker, timeout, retry with backoff, rate limiting, bulkhead, health
// checks, fallback, hedging, adaptive throttling and fault injection — that
// compose, type safe, around any call of the form
// func(context.Context) (T, error).
//
// This package holds only this overview; the code lives in sub-packages.
//
// # The pieces
//
//   - [github.com/riprap-go/riprap/resilience]: the core. The non-generic
//     Guard interface every policy implements, Pipeline[T] and Chain to
//     compose them, the three-way outcome of a call (success, failure,
//     ignored), rejection errors, configuration errors, events and a
//     log/slog listener.
//   - [github.com/riprap-go/riprap/resilience/breaker]: a circuit breaker
//     (closed, open, half-open, held open by a health check) shared by calls
//     of any result type, with a registry.
//   - [github.com/riprap-go/riprap/resilience/timeout]: bounds one call.
//   - [github.com/riprap-go/riprap/resilience/backoff]: delay strategies, the
//     retry guard and a retry budget against retry storms.
//   - [github.com/riprap-go/riprap/resilience/ratelimit]: a lock-free rate
//     limiter and keyed limits; [github.com/riprap-go/riprap/resilience/bulkhead]:
//     concurrency limits, fixed and adaptive.
//   - [github.com/riprap-go/riprap/resilience/health] and
//     [github.com/riprap-go/riprap/resilience/fallback]: proactive health
//     checks that drive breakers, and fallbacks for when all else fails.
//   - [github.com/riprap-go/riprap/resilience/hedge],
//     [github.com/riprap-go/riprap/resilience/throttle],
//     [github.com/riprap-go/riprap/resilience/chaos]: hedged requests,
//     client-side adaptive throttling, and fault injection for rehearsals.
//   - [github.com/riprap-go/riprap/resilience/httpx] and
//     [github.com/riprap-go/riprap/resilience/sqlguard]: net/http (client
//     transport, server middleware, health handlers) and database/sql.
//   - [github.com/riprap-go/riprap/resilience/resiliencetest]: helpers for
//     your own tests (an event recorder, scripted failures).
//   - [github.com/riprap-go/riprap/payments/gateway]: the payment gateway
//     riprap exists for, over the money and service types of
//     [github.com/riprap-go/riprap/payments]; its live demo is
//     examples/gateway (go run ./examples/gateway).
//
// Integrations with heavy dependencies are modules of their own under
// contrib/ (Prometheus, OpenTelemetry, gRPC, Redis), so importing
// resilience/... downloads none of them.
//
// # Composing policies
//
// Stateful parts — a breaker, a limiter, a bulkhead — are built once from a
// Config (the only place an error is checked) and shared. A pipeline names
// its result type once and is called from any number of goroutines, with a
// fresh closure per call carrying that call's arguments. The first guard is
// the outermost:
//
//	quotes := resilience.NewPipeline[Quote](limiter, retry, fxBreaker, timeout.After(500*time.Millisecond))
//	q, err := quotes.Execute(ctx, func(ctx context.Context) (Quote, error) {
//		return fx.Quote(ctx, pair)
//	})
//
// The recommended order, from the outside in, is the one Polly and
// Microsoft's standard HTTP pipeline use:
//
//  1. fallback, when there is one: it answers for rejections too;
//  2. rate limit or bulkhead: refuse excess work before it costs anything;
//  3. an overall timeout, when the whole operation has a budget;
//  4. retry: try again after a failure, with backoff;
//  5. circuit breaker: judge each attempt, and refuse attempts to a
//     dependency known to be failing;
//  6. timeout: bound each attempt.
//
// The breaker sits inside the retry so that it judges every attempt, and so
// that a retry can learn it opened — but not at once, and that order alone
// does nothing for an attempt already in flight. That attempt runs until it
// answers or its timeout fires, whatever the breaker does meanwhile; the
// retry then waits its backoff, and only the next attempt meets the open
// breaker. It is refused at once, except that a rejection whose Retry-After
// fits the retry's MaxRetryAfter (10s by default, longer than the breaker's
// default open wait of 5s) is waited out, and the attempt after it is the
// breaker's probe. So in a hang, a first wave of calls sent before the
// breaker opened waits out one attempt timeout and one backoff each — fewer
// than with the breaker outside the retry, where every attempt of a call
// runs before the breaker counts the call, but not none. Two more pieces
// close the gap:
// [github.com/riprap-go/riprap/resilience/backoff.RetryConfig.Admit] lets
// the retry look at the breaker before it waits and stop then; and a guard
// inside the breaker that cancels the attempts in flight when it opens (the
// payment gateway has one) ends the first wave when the breaker sees the
// failure, at the price of an unknown outcome for those attempts instead of
// a late one. The timeout sits inside the retry so that it bounds one
// attempt; a timeout outside the retry bounds the whole operation.
//
// # Rejections and failures
//
// A call refused before it reached the dependency returns an error for which
// [github.com/riprap-go/riprap/resilience.IsRejected] is true; for a payment
// that means "not attempted, safe to retry later", and
// [github.com/riprap-go/riprap/resilience.RetryAfter] says when. Any other
// error is a failure, whose effect on the dependency may be unknown.
//
// # Time
//
// Every policy takes a clock.Clock (github.com/benbjohnson/clock) in its
// configuration, so tests move time with a mock clock or run inside a
// testing/synctest bubble; no policy sleeps in real time in a test.
package riprap
