// Package breaker provides a circuit breaker: a non-generic [Breaker]
// shared by calls of any result type, a generic [Policy] adapter, and a
// [Registry] of breakers by name.
//
// A closed breaker counts outcomes in a count or time window and opens when
// a trip rule holds (consecutive failures, failure rate, slow-call rate);
// an open one refuses calls with an error matching [ErrOpen] until its wait
// is over; a half-open one admits a few probes and closes or opens again on
// their outcome. Transitions are lazy, driven by calls and the clock; the
// breaker runs no goroutine.
//
// # Design
//
// Each state is an immutable phase published through an atomic pointer,
// and a permit remembers the phase that admitted it: results from an
// earlier generation are recognised and dropped without a lock. A closed
// success is an atomic add; failures, probes and transitions take a mutex,
// and listeners run after it is released. Windows keep buckets, never a
// list of calls. A success never opens the breaker: rules are evaluated
// when a failure or a slow call is recorded.
package breaker
