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
// always wins over a hold. Transitions are lazy, computed from the clock
// when the breaker is used; the breaker runs no goroutine of its own.
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
// earlier generation are recognised and dropped without a lock. Failures,
// probes and transitions take a mutex, and listeners run after it is
// released. A success never opens the breaker: rules are evaluated when a
// failure or a slow call is recorded.
//
// The closed path writes one word: a success adds itself to its phase's
// count and writes nothing else (a consecutive-failure count already at
// zero is only read). That count starts as one word and spreads over
// cache lines of their own the first time two cores collide on it, each
// goroutine then adding to the line its stack address picks, so that
// calls on many cores do not fight for one line while an idle breaker
// stays small. Rejections are counted the same way. The count is the
// sequence of a count window, whose bits or buckets only failures and slow
// calls write, under the lock; when the phase ends, its count is sealed
// and folded into the totals, and a call counted after that is counted in
// the totals instead, so each call is counted once.
//
// # Timers
//
// An open breaker refuses calls without reading the clock: when it opens
// on the real clock, a runtime timer (time.AfterFunc) is armed to set a
// flag a millisecond before the wait ends, and until the flag is set a
// rejection is one load. From then on rejections read the clock, which
// alone decides when the wait is over, so the transition stays lazy and
// exact: the timer only says when the clock is worth reading. A timer that
// fires late on an overloaded machine delays the first probe by its delay
// past that millisecond. In a synctest bubble fake time cannot pass the
// timer's instant before its function has run, so transitions are exact
// there too; with an injected [clock.Clock], whose timers a test drives,
// every rejection reads the clock, as it always did. A runtime timer is
// not a goroutine: it runs its function on a goroutine of its own only
// when it fires, for one atomic store; one that outlives its phase (the
// breaker was released early) sets the flag of a phase nobody reads. This
// is the one exception to the rule that the breaker runs
// nothing in the background; the opt-in coarse clock ([Config.CoarseClock])
// is the other timer, shared by all breakers, re-armed only while read.
//
// # Memory
//
// A breaker with the defaults takes about 290 bytes: the breaker, its
// closed phase and a count window of 100 calls kept as 100 bits. Breakers
// made from one configuration share their settings. A time window of 10
// buckets brings it to about 500 bytes.
package breaker
