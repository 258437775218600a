// Package ratelimit limits how fast and how many calls reach a dependency:
// a lock-free rate [Limiter] (GCRA), a per-key [Keyed] limiter with bounded
// memory, a [Bulkhead] bounding concurrency, an AIMD [Adaptive]
// concurrency limit, [resilience.Policy] adapters for each ([NewPolicy],
// [NewKeyedPolicy], [NewBulkheadPolicy], [NewAdaptivePolicy]) and net/http
// [Middleware] answering 429 with RateLimit headers.
//
// # Decisions
//
//   - Rates are integers ([Every], [PerSecond], [Per]) turned into an
//     emission interval rounded up to the nanosecond, so rounding can only
//     make a limiter stricter; unlimited is the explicit [Inf].
//   - The limiter never admits more than the sequential algorithm would:
//     the invariant is written beside [Limiter]'s CAS loop. SetRate and
//     SetBurst keep the tokens available (capped at a smaller burst);
//     reservations waiting ahead keep their times.
//   - A reservation's Cancel returns its tokens only while it is still the
//     latest admission; see [Reservation.Cancel].
//   - A key is idle once its bucket is full, which makes evicting it
//     invisible to the key. Idle keys go lazily, least recently used first,
//     shard by shard, or all at once with [Keyed.Sweep]. At capacity a new
//     key is refused or shares an overflow bucket ([AtCapacity]), never
//     admitted freely. A tracked key with a short (IPv4) key costs about
//     100 bytes of heap.
//   - The bulkhead's fast path is one CAS per acquire and per release while
//     nobody queues; queued callers are served strictly FIFO.
//   - Nothing runs in the background; time comes from a clock.Clock. With
//     the default (nil) clock the hot path reads only the monotonic clock.
package ratelimit
