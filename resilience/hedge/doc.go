// Package hedge sends a second request when the first is slow and takes
// whichever good answer comes first, trimming the tail of a dependency's
// latency at the price of a little extra load.
//
// A [Hedger] is a [resilience.Guard]. Its delay is fixed or follows a
// quantile of recent latencies, estimated in constant memory; a [Budget]
// shared with the retries (a *backoff.Budget) keeps hedges from multiplying
// the load when everything is slow; the losers are cancelled; and a
// classifier decides which answers count. Only calls that are safe to
// repeat belong in a pipeline with a Hedger: putting it there says so.
//
// Decisions, where the peers differ: the first attempt runs on the
// caller's goroutine, so a call answered before the delay starts no
// goroutine, and a call answered by a hedge returns when the first attempt
// has honoured its cancellation; a first attempt that fails before the
// delay is not hedged (hedging is not retrying); when nothing succeeds the
// call ends as its first attempt did. See [Hedger] for the whole contract.
package hedge
