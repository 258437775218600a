// Package bulkhead bounds how many calls run at once: a fixed [Bulkhead]
// with an optional FIFO queue, and an [Adaptive] limit that finds its own
// level from the calls' outcomes and latency.
//
// Both are stateful and not generic, and both are [resilience.Guard]s: they
// go into a pipeline of any result type as they are, and one instance is
// shared by every pipeline that protects the same dependency:
//
//	ledger, err := bulkhead.New(bulkhead.Config{Name: "ledger", MaxConcurrent: 8, MaxQueue: 32})
//	...
//	write := resilience.NewChain(ledger, deadline)
//	err = write.Run(ctx, func(ctx context.Context) error { return db.Append(ctx, entry) })
//
// Outside a pipeline, [Bulkhead.Acquire] and [Adaptive.Acquire] are the
// two-step form; httpx.Shed sheds HTTP requests with either.
//
// # Decisions
//
//   - The bulkhead's fast path is one CAS per acquire and per release while
//     nobody queues; queued callers are served strictly FIFO.
//   - A permit frees its slot once, through any number of copies: a double
//     release never admits more than the limit. Pooled tickets keep this
//     free of allocations.
//   - The adaptive limit refuses at once rather than queueing: a queue
//     would hide the latency it reacts to. It judges outcomes, so it never
//     starts a call whose context is already done.
//   - Rejections are reported to listeners only when one subscribes to
//     EventRejection; limit changes go through the dispatcher's queue, in
//     order, never under a lock. Metrics read [Bulkhead.Snapshot] and
//     [Adaptive.Snapshot].
//   - Nothing runs in the background; time comes from a clock.Clock.
package bulkhead
