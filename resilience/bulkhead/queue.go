package bulkhead

import (
	"context"
	"fmt"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// Invariants of Bulkhead.state, which make the mixed atomic/mutex scheme
// sound:
//   - queued changes only under mu, and equals the length of the list;
//   - a caller queues only by a CAS from a state with inFlight == max, so
//     whenever queued > 0 every slot is taken (inFlight < max ⇒ queued == 0);
//   - the lock-free paths act only on a state with queued == 0, so once a
//     waiter is queued every release takes mu and hands its slot over
//     instead of dropping inFlight; a waiter can never be missed.
const queuedOne = 1 << 32

type waiter struct {
	ready      chan struct{} // closed when granted
	granted    bool
	prev, next *waiter
}

// enqueue takes a slot that came free (nil, true), queues a waiter
// (w, true), or reports a full queue (nil, false).
func (b *Bulkhead) enqueue() (*waiter, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		s := b.state.Load()
		if s>>32 == 0 && s < b.max {
			if b.state.CompareAndSwap(s, s+1) {
				return nil, true
			}
			continue
		}
		if s>>32 >= b.maxQueue {
			return nil, false
		}
		if b.state.CompareAndSwap(s, s+queuedOne) {
			break
		}
	}
	b.queued.Add(1)
	w := &waiter{ready: make(chan struct{}), prev: b.tail}
	if b.tail != nil {
		b.tail.next = w
	} else {
		b.head = w
	}
	b.tail = w
	return w, true
}

// await waits for w to be granted a slot, MaxWait to pass, or ctx.
func (b *Bulkhead) await(ctx context.Context, w *waiter) error {
	var expired <-chan time.Time
	if b.maxWait > 0 {
		t := b.clk.Timer(b.maxWait)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-w.ready:
		return nil
	case <-expired:
		if b.leave(w) {
			return nil
		}
		b.timedOut.Add(1)
		err := fmt.Errorf("bulkhead: waited %v in the queue: %w", b.maxWait,
			resilience.Reject(bulkheadPolicy, b.name, ErrFull, 0))
		b.emitRejection(err)
		return err
	case <-ctx.Done():
		if b.leave(w) {
			b.release() // granted as ctx ended: pass the slot on
		}
		b.abandoned.Add(1)
		return ctx.Err()
	}
}

// leave takes w out of the queue, or reports that it was granted a slot
// meanwhile (the grant and the timeout raced; the grant won).
func (b *Bulkhead) leave(w *waiter) (granted bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if w.granted {
		return true
	}
	b.unlink(w)
	b.state.Add(^uint64(queuedOne - 1)) // queued−1
	return false
}

func (b *Bulkhead) unlink(w *waiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		b.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		b.tail = w.prev
	}
	w.prev, w.next = nil, nil
}

// release frees one slot, handing it to the oldest waiter if there is one.
// Permits make sure it runs once per admission.
func (b *Bulkhead) release() {
	for s := b.state.Load(); s>>32 == 0; s = b.state.Load() {
		if s == 0 {
			return // never underflow, whatever happens
		}
		if b.state.CompareAndSwap(s, s-1) {
			return
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		s := b.state.Load()
		if s>>32 != 0 {
			// The slot moves to the oldest waiter: inFlight stays, queued−1.
			w := b.head
			b.unlink(w)
			w.granted = true
			b.state.Add(^uint64(queuedOne - 1))
			close(w.ready)
			return
		}
		if s == 0 || b.state.CompareAndSwap(s, s-1) {
			return
		}
	}
}
