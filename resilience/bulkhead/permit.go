package bulkhead

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// A ticket makes a permit free its slot once, however many copies of the
// permit exist: the first Release (or Done) moves the ticket's generation
// on by a CAS, and every other copy, holding the old generation, fails its
// CAS for good. Tickets are pooled, so a permit costs no allocation in the
// steady state; a recycled ticket has a newer generation, which no copy of
// an earlier permit can match (generations never repeat in 2^64 uses).
type ticket struct{ gen atomic.Uint64 }

// tickets is a pool of tickets. The zero value is ready to use.
type tickets struct{ pool sync.Pool }

func (ts *tickets) issue() (*ticket, uint64) {
	t, _ := ts.pool.Get().(*ticket)
	if t == nil {
		t = new(ticket)
	}
	return t, t.gen.Load()
}

// redeem reports whether this is the first use of (t, gen), and recycles t.
func (ts *tickets) redeem(t *ticket, gen uint64) bool {
	if t == nil || !t.gen.CompareAndSwap(gen, gen+1) {
		return false
	}
	ts.pool.Put(t)
	return true
}

// Permit is one slot of a [Bulkhead], from [Bulkhead.Acquire] or
// [Bulkhead.TryAcquire]. Release frees the slot once: a second Release, on
// the permit or on any copy of it, does nothing, so a double release can
// never admit more calls than MaxConcurrent. The zero Permit's Release does
// nothing. A Permit may be released from any goroutine.
type Permit struct {
	b   *Bulkhead
	t   *ticket
	gen uint64
}

func (b *Bulkhead) permit() Permit {
	t, gen := b.tickets.issue()
	return Permit{b: b, t: t, gen: gen}
}

// Release gives the slot back, to the oldest queued caller if there is one.
func (p Permit) Release() {
	if p.b != nil && p.b.tickets.redeem(p.t, p.gen) {
		p.b.release()
	}
}

// AdaptivePermit is one call admitted by an [Adaptive] limit, from
// [Adaptive.Acquire]. Report the call's outcome with Done or DoneErr: the
// first report frees the slot and counts; any later one, on the permit or
// on a copy, does nothing. The zero AdaptivePermit's reports do nothing. An
// AdaptivePermit may be reported from any goroutine.
type AdaptivePermit struct {
	a     *Adaptive
	t     *ticket
	gen   uint64
	start time.Time
}

// Done reports the call's outcome and frees its slot.
// [resilience.Unclassified] counts as Ignored.
func (p AdaptivePermit) Done(o resilience.Outcome) {
	if p.a == nil || !p.a.tickets.redeem(p.t, p.gen) {
		return
	}
	p.a.done(o, p.a.latency(p.start))
}

// DoneErr reports the call's error (nil for success), judged by the limit's
// classifier under ctx, the context the call ran with.
func (p AdaptivePermit) DoneErr(ctx context.Context, err error) {
	if p.a == nil {
		return
	}
	p.Done(p.a.classify(ctx, err))
}
