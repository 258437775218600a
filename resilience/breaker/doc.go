// Package breaker provides a circuit breaker: a non-generic [Breaker] that
// is a [resilience.Guard], shared by pipelines of any result type, with a
// two-step API for code that is not one function call, and a [Registry] of
// breakers by name.
//
// A closed breaker counts outcomes in a count or time window and opens when
// a trip rule holds (consecutive failures, failure rate, slow-call rate);
// an open one refuses calls with an error matching [ErrOpen] until its wait
// is over; a half-open one admits a few probes and closes or opens again on
// their outcome. A health check may hold it open ([HeldOpen]) and a person
// may force it open, closed or into metrics-only mode; a person's state
// always wins over a hold. Transitions are lazy, driven by calls and the
// clock; the breaker runs no goroutine.
//
// # Use
//
// Put the breaker in a pipeline; the result type is written once, on the
// pipeline:
//
//	bank, err := breaker.New(breaker.Config{Name: "bank", FailureRate: 0.5})
//	transfers := resilience.NewPipeline[Receipt](limiter, bank, retry, deadline)
//	receipt, err := transfers.Execute(ctx, func(ctx context.Context) (Receipt, error) {
//		return client.Transfer(ctx, req)
//	})
//
// or ask and report by hand with [Breaker.Allow] and [Permit.DoneErr]. A
// listener made with [resilience.OnStateChange] hears of every transition
// and costs a call nothing; [Breaker.Snapshot] has the counters metrics
// need.
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
