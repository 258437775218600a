package resilience

import (
	"sync"
	"sync/atomic"
)

// MaxQueuedChanges bounds the state changes a [Dispatcher] holds while a
// listener is still busy with an earlier one. A policy makes a state change
// only on a transition (a breaker opening), so the queue stays near empty;
// the bound is for a listener that blocks while a program forces states in
// a loop. Past it the oldest undelivered change is dropped and counted (see
// [Dispatcher.Dropped]). Each entry is one [Event], under 200 bytes, so a
// queue never holds more than about 800 KiB.
const MaxQueuedChanges = 4096

// Dispatcher delivers a policy's events to its listeners without holding
// the policy's lock while a listener runs.
//
// State changes: the policy calls [Dispatcher.Enqueue] while it holds its own
// lock (so the queue order is the order of its transitions) and
// [Dispatcher.Flush] after releasing it. Flush delivers the queue unless
// another goroutine already is; that goroutine then delivers the new change
// too, so each is delivered once, in order. A listener that calls back
// into the policy and causes another change does not deadlock: that change
// is delivered after it returns.
//
// Per-call events: the policy checks [Dispatcher.Wants] and calls
// [Dispatcher.Emit], which delivers on the calling goroutine and queues
// nothing. With no listener subscribed to a kind, Wants is one load and
// the event is never built.
//
// The zero value and a nil *Dispatcher have no listeners. A Dispatcher must
// not be copied after first use. It is safe for concurrent use.
type Dispatcher struct {
	listeners Listeners
	kinds     Kinds

	mu       sync.Mutex // protects ring, head, n and draining
	ring     []Event    // a ring buffer: n events from ring[head] on are still to be delivered
	head, n  int
	draining bool

	dropped atomic.Uint64
}

// NewDispatcher returns a dispatcher delivering to ls. It keeps its own copy
// of the slice.
func NewDispatcher(ls Listeners) *Dispatcher {
	d := &Dispatcher{}
	for _, l := range ls {
		if l.Func != nil {
			d.listeners = append(d.listeners, l)
		}
	}
	d.kinds = d.listeners.kinds()
	return d
}

// Active reports whether anybody listens to anything.
func (d *Dispatcher) Active() bool { return d != nil && d.kinds != 0 }

// Wants reports whether a listener subscribes to k. Policies check it
// before building an event, so that an unobserved call costs nothing.
func (d *Dispatcher) Wants(k EventKind) bool { return d != nil && d.kinds.Has(k) }

// Dropped reports how many state changes were dropped because
// [MaxQueuedChanges] were already waiting.
func (d *Dispatcher) Dropped() uint64 {
	if d == nil {
		return 0
	}
	return d.dropped.Load()
}

// Enqueue appends a state change to the queue. It never calls a listener,
// so a policy may call it under its own lock.
func (d *Dispatcher) Enqueue(e Event) {
	if !d.Wants(e.Kind) {
		return
	}
	d.mu.Lock()
	if d.n == MaxQueuedChanges {
		d.pop() // the oldest change makes room; O(1), so a flood costs no more
		d.dropped.Add(1)
	}
	if d.n == len(d.ring) {
		d.grow()
	}
	d.ring[(d.head+d.n)%len(d.ring)] = e
	d.n++
	d.mu.Unlock()
}

// grow doubles the ring, up to [MaxQueuedChanges] entries, keeping order.
func (d *Dispatcher) grow() {
	grown := make([]Event, min(max(2*len(d.ring), 8), MaxQueuedChanges))
	for i := range d.n {
		grown[i] = d.ring[(d.head+i)%len(d.ring)]
	}
	d.ring, d.head = grown, 0
}

// pop removes and returns the oldest queued change.
func (d *Dispatcher) pop() Event {
	e := d.ring[d.head]
	d.ring[d.head] = Event{} // drop references for the GC
	d.head = (d.head + 1) % len(d.ring)
	d.n--
	return e
}

// Flush delivers queued state changes unless another goroutine is already
// doing so.
func (d *Dispatcher) Flush() {
	if !d.Active() {
		return
	}
	d.mu.Lock()
	if d.draining || d.n == 0 {
		d.mu.Unlock()
		return
	}
	d.draining = true
	for d.n > 0 {
		e := d.pop()
		d.mu.Unlock()
		d.deliver(e)
		d.mu.Lock()
	}
	if len(d.ring) > 64 {
		d.ring, d.head = nil, 0 // a burst's ring is not kept for good
	}
	d.draining = false
	d.mu.Unlock()
}

// deliver runs the listeners; a listener's panic still ends the draining
// state so later events are not stuck, then continues in the caller.
func (d *Dispatcher) deliver(e Event) {
	defer func() {
		if r := recover(); r != nil {
			d.mu.Lock()
			d.draining = false
			d.mu.Unlock()
			panic(r)
		}
	}()
	d.listeners.Emit(e)
}

// Emit delivers a per-call event on the calling goroutine to the listeners
// subscribed to its kind; a state or limit change goes through the queue
// ([Dispatcher.Enqueue] then [Dispatcher.Flush]) to keep its order. Call it
// outside any lock.
func (d *Dispatcher) Emit(e Event) { d.EmitRef(&e) }

// EmitRef is [Dispatcher.Emit] of *e, for a policy that builds a per-call
// event on every call: the event is copied once, into each listener's
// argument, rather than once more for every function it passes through.
// e is not kept.
func (d *Dispatcher) EmitRef(e *Event) {
	if !d.Wants(e.Kind) {
		return
	}
	if e.Kind == EventStateChange || e.Kind == EventLimitChange {
		d.Enqueue(*e)
		d.Flush()
		return
	}
	d.listeners.emit(e)
}
