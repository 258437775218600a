// Package ratelimit limits how fast calls reach a dependency: a lock-free
// rate [Limiter] (GCRA) and a per-key [Keyed] limiter with bounded memory.
//
// Both are stateful and not generic. A *Limiter is a [resilience.Guard] and
// goes into a pipeline of any result type as it is; a *Keyed goes in
// through [ByKey], or is asked with [Keyed.Admit] before the call:
//
//	limit, err := ratelimit.NewWithConfig(ratelimit.Config{Name: "bank", Rate: ratelimit.PerSecond(100), Burst: 20})
//	...
//	p := resilience.NewPipeline[Receipt](limit, br, retry, deadline)
//	receipt, err := p.Execute(ctx, func(ctx context.Context) (Receipt, error) { return bank.Transfer(ctx, req) })
//
// Concurrency limits live in package bulkhead, HTTP middleware in package
// httpx.
//
// # Decisions
//
//   - Rates are integers ([Every], [PerSecond], [Per], [ParseRate]) turned
//     into an emission interval rounded up to the nanosecond, so rounding can
//     only make a limiter stricter; unlimited is the explicit [Inf]. A Rate
//     reads and marshals as "100/s".
//   - A burst of 0 means 1 everywhere: [New], [Config], [KeyedConfig] and
//     [Limiter.SetBurst]. Negative values are refused with a
//     *[resilience.ConfigError].
//   - The limiter never admits more than the sequential algorithm would:
//     the invariant is written beside [Limiter]'s CAS loop. SetRate and
//     SetBurst keep the tokens available (capped at a smaller burst);
//     reservations waiting ahead keep their times.
//   - A cancelled reservation returns its tokens only before its act time
//     and only while it is still the latest admission; see
//     [Reservation.CancelAt].
//   - A key is idle once its bucket is full, which makes evicting it
//     invisible to the key. Idle keys go lazily, least recently used first,
//     shard by shard, or all at once with [Keyed.Sweep]. At capacity a new
//     key is refused or shares an overflow bucket ([AtCapacity]), never
//     admitted freely. A tracked key with a short (IPv4) key costs about
//     100 bytes of heap. [Keyed.Take] with n = 0 peeks at a key.
//   - Keys come from the call, not from hidden arguments: [Keyed.Admit]
//     takes the key as an argument; [ByKey] reads request-scoped identity
//     (who is calling) from the context, never a call's arguments.
//   - Rejections are reported to listeners only when one subscribes to
//     EventRejection; metrics read the counters of [Limiter.Snapshot] and
//     [Keyed.Snapshot] instead.
//   - Nothing runs in the background; time comes from a clock.Clock. With
//     the default (nil) clock the hot path reads only the monotonic clock.
package ratelimit
