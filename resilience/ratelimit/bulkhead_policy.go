package ratelimit

import (
	"context"

	"github.com/riprap-go/riprap/resilience"
)

// BulkheadSnapshot is a point-in-time view of a [Bulkhead]. The gauges and
// the totals are read one by one, so under load they may be a few calls
// apart.
type BulkheadSnapshot struct {
	Name          string
	MaxConcurrent int
	MaxQueue      int
	InFlight      int    // slots held now
	Queued        int    // callers waiting now
	Waited        uint64 // callers that had to queue
	Rejected      uint64 // refused at once: no slot and no room in the queue
	TimedOut      uint64 // left the queue after MaxWait
	Abandoned     uint64 // left the queue because their context ended
}

// Snapshot returns the bulkhead's gauges and totals.
func (b *Bulkhead) Snapshot() BulkheadSnapshot {
	s := b.state.Load()
	return BulkheadSnapshot{
		Name: b.name, MaxConcurrent: int(b.max), MaxQueue: int(b.maxQueue),
		InFlight: int(uint32(s)), Queued: int(s >> 32),
		Waited: b.queued.Load(), Rejected: b.rejected.Load(),
		TimedOut: b.timedOut.Load(), Abandoned: b.abandoned.Load(),
	}
}

// NewBulkheadPolicy returns a [resilience.Policy] that runs each call in a
// slot of b, queueing as b is configured to. A refusal is a
// [resilience.Rejection] matching [ErrBulkheadFull]. The slot is released
// when the call returns, and also when it panics (the panic then goes on to
// the caller).
func NewBulkheadPolicy[T any](b *Bulkhead) (resilience.Policy[T], error) {
	if b == nil {
		return nil, ErrNilLimiter
	}
	return resilience.PolicyFunc[T](func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			next = func(context.Context) (T, error) { var z T; return z, resilience.ErrNilFunc }
		}
		return func(ctx context.Context) (T, error) {
			p, err := b.Acquire(ctx)
			if err != nil {
				var zero T
				return zero, err
			}
			defer p.Release()
			return next(ctx)
		}
	}), nil
}
