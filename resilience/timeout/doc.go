// Package timeout bounds how long one call may take.
//
// A [*Timeout] is a [resilience.Guard]: it goes into a pipeline of any
// result type without a type argument.
//
//	p := resilience.NewPipeline[Quote](timeout.After(2 * time.Second))
//	q, err := p.Execute(ctx, func(ctx context.Context) (Quote, error) { return fx.Quote(ctx, pair) })
//
// [After] needs no configuration and returns no error; [New] takes a
// [Config] (name, mode, clock, listeners) and refuses a bad one with a
// [*resilience.ConfigError].
//
// The default [Cooperative] mode gives the call a context with a deadline
// and waits for the function to return; it leaves no goroutine behind, and
// a function that honours its context returns soon after the deadline.
// The opt-in [Abandon] mode is for functions that ignore their context:
// the caller gets its answer on time while the attempt runs on, on its own
// goroutine and its own fork of the call ([resilience.Next.Fork]), until it
// returns by itself; its result is adopted only when it finishes in time.
//
// A deadline the timeout imposes looks like a deadline to every context
// derived from the call's: Err reports [context.DeadlineExceeded] and
// [context.Cause] the timeout's [*Error], with the real clock and with an
// injected one alike. An outer breaker counts such a timeout as a failure;
// the caller's own cancellation passes through unchanged and counts as
// nothing.
//
// [Timeout.Snapshot] counts the deadlines that fired and the abandoned
// calls still running, for metrics; [resilience.EventTimeout] events cost a
// call nothing unless a listener subscribes to them.
package timeout
