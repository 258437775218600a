package resilience

import "sync"

// Dispatcher delivers a stateful policy's events to its listeners in the
// order the policy produced them, without holding the policy's lock while a
// listener runs.
//
// The policy calls [Dispatcher.Enqueue] while it holds its own lock (so the
// queue order is the order of its state changes) and [Dispatcher.Flush] after
// releasing it. Flush delivers the queue; if another goroutine is already
// delivering, Flush returns at once and that goroutine delivers the events
// too, which keeps the order total. A listener that calls back into the
// policy and causes further events does not deadlock: those events are
// delivered after it returns.
//
// The zero value has no listeners and drops events. A Dispatcher must not be
// copied after first use. It is safe for concurrent use.
type Dispatcher struct {
	listeners Listeners

	mu       sync.Mutex // protects queue, head and draining
	queue    []Event    // queue[head:] is still to be delivered
	head     int
	draining bool
}

// NewDispatcher returns a dispatcher delivering to ls. It keeps its own copy
// of the slice.
func NewDispatcher(ls Listeners) *Dispatcher {
	d := &Dispatcher{}
	for _, l := range ls {
		if l != nil {
			d.listeners = append(d.listeners, l)
		}
	}
	return d
}

// Active reports whether anybody listens. Policies check it before building
// an event, so that an unobserved call costs nothing.
func (d *Dispatcher) Active() bool { return d != nil && len(d.listeners) > 0 }

// Enqueue appends e to the queue. It never calls a listener.
func (d *Dispatcher) Enqueue(e Event) {
	if !d.Active() {
		return
	}
	d.mu.Lock()
	d.queue = append(d.queue, e)
	d.mu.Unlock()
}

// Flush delivers queued events unless another goroutine is already doing so.
func (d *Dispatcher) Flush() {
	if !d.Active() {
		return
	}
	d.mu.Lock()
	if d.draining {
		d.mu.Unlock()
		return
	}
	d.draining = true
	for d.head < len(d.queue) {
		e := d.queue[d.head]
		d.queue[d.head] = Event{} // drop references for the GC
		d.head++
		d.mu.Unlock()
		d.deliver(e)
		d.mu.Lock()
	}
	d.queue, d.head = d.queue[:0], 0
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

// Emit enqueues e and flushes: the form for events produced outside any
// lock (a retry, a timeout).
func (d *Dispatcher) Emit(e Event) {
	d.Enqueue(e)
	d.Flush()
}
