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
// Client side, [Transport] is an http.RoundTripper that runs each request
// through riprap's policies and reads Retry-After from the answers.
package httpx
