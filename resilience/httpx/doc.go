// Package httpx connects riprap's policies to net/http. It holds all the
// HTTP code of the module, so that policy packages stay free of net/http.
//
// Server side, middleware protects a handler: [RateLimit] limits each
// client by key and answers 429 Too Many Requests with Retry-After and
// RateLimit-* headers; [Shed] runs requests inside a concurrency limit (a
// bulkhead or an adaptive limit) and answers 503 Service Unavailable with
// Retry-After when it refuses; [Timeout] bounds a handler's time.
// [HealthHandler] and [LivenessHandler] serve readiness and liveness
// reports. Key functions ([ClientIP], [ClientIPBehind], [HeaderKey],
// [RouteKey]) say who a request counts against.
//
// Client side, [Transport] is an http.RoundTripper for any http.Client. It
// keeps policies per host (or [TransportConfig].Key): a breaker from a
// breaker.Registry, optional rate and concurrency limits, and, for requests
// safe to repeat ([SafeToRepeat]) whose body can be sent again, a jittered
// retry and optional hedging. Connection errors, 429, 503 and most 5xx are
// failures; other answers never trip a breaker; the caller's own
// cancellation is ignored. A server's Retry-After ([ParseRetryAfter])
// lengthens both the retry's wait and the breaker's open wait, capped by
// MaxRetryAfter. When retries run out the caller gets the last response; a
// refused request gets an error for which resilience.IsRejected is true.
// Dropped responses are drained and closed, so connections are reused;
// [DrainBody] does the same for a body a client stops reading. Under
// AttemptTimeout an attempt's context carries a real deadline until its
// headers arrive, so the base transport, a dialer and every context
// derived from it see context.DeadlineExceeded; so do they under Timeout.
package httpx
