package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// errAbandoned is the cause given to a call abandoned by a tripWire.
var errAbandoned = errors.New("abandoned: the breaker opened while the call was in flight")

// tripWire is a guard, placed inside a breaker, that ends the calls in
// flight through it the moment the breaker stops admitting calls (it
// opens, or is held or forced open).
//
// Why: a breaker keeps new calls off a failing dependency, but the calls
// already inside it — a hang's first wave — each wait out their own
// timeout. With no protection every call of a hang waits that long, so
// those in flight set the protected tail and it could never be better than
// none; ending them when the breaker opens bounds the wait by how long the
// breaker takes to see the failure. The cost: a call that would have
// answered after the breaker opened ends with an unknown outcome instead,
// which for a transfer is a pending payment that the reconciler settles
// (see [bankPath]), and for a quote is the last good one (see [fxPath]).
//
// Which calls it ends first matters: they all end at once, and the work
// of ending them (closing each request's connection, recording each
// payment as pending) queues up behind the first ones ended. It ends them
// earliest deadline first — for a payment, the deadline of its claim,
// which every attempt of it shares — so that the payments that have
// waited longest, the ones that set the tail, are answered first. In a
// drill's hang, ending ~150 attempts in the context package's random
// order left the oldest payments up to 50ms behind the breaker.
//
// It is safe for concurrent use. It learns of the breaker's state from a
// listener, so it works only on a breaker created with that listener: one
// taken from a Registry where another gateway created it first keeps its
// calls.
type tripWire struct {
	name string // the breaker's

	mu         sync.Mutex // protects the list of calls in flight
	head, tail *wireCall  // in the order they entered
}

// wireCall is one call in flight through a tripWire.
type wireCall struct {
	end      context.CancelCauseFunc
	deadline time.Time // zero: none
	// Under the tripWire's mu:
	prev, next *wireCall
	listed     bool
}

func newTripWire(name string) *tripWire {
	return &tripWire{name: name}
}

// listener trips the wire on the breaker's every change to a state that
// refuses calls.
func (w *tripWire) listener() resilience.Listener {
	return resilience.OnStateChange(func(e resilience.Event) {
		if e.Name != w.name || e.Policy != "breaker" {
			return
		}
		switch e.To {
		case breaker.Open.String(), breaker.HeldOpen.String(), breaker.ForcedOpen.String():
			w.fire()
		}
	})
}

// fire ends every call in flight, in the order takeAll gives. Calls that
// enter afterwards are not affected.
func (w *tripWire) fire() {
	for _, c := range w.takeAll() {
		c.end(errAbandoned)
	}
}

// takeAll empties the list of calls in flight and returns them earliest
// deadline first (calls without one last), in the order they entered
// among equal deadlines.
func (w *tripWire) takeAll() []*wireCall {
	w.mu.Lock()
	var calls []*wireCall
	for c := w.head; c != nil; {
		next := c.next
		c.prev, c.next, c.listed = nil, nil, false
		calls = append(calls, c)
		c = next
	}
	w.head, w.tail = nil, nil
	w.mu.Unlock()
	slices.SortStableFunc(calls, func(a, b *wireCall) int { return byDeadline(a.deadline, b.deadline) })
	return calls
}

// byDeadline orders deadlines earliest first, none (zero) last.
func byDeadline(a, b time.Time) int {
	switch {
	case a.IsZero() == b.IsZero():
		return a.Compare(b)
	case a.IsZero():
		return 1
	}
	return -1
}

func (w *tripWire) enter(c *wireCall) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c.prev, c.listed = w.tail, true
	if w.tail != nil {
		w.tail.next = c
	} else {
		w.head = c
	}
	w.tail = c
}

// leave takes c off the list, unless fire already has.
func (w *tripWire) leave(c *wireCall) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !c.listed {
		return
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		w.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		w.tail = c.prev
	}
	c.prev, c.next, c.listed = nil, nil, false
}

// Guard runs the rest of the pipeline, ending it if the wire fires first.
// The error of an abandoned call matches errAbandoned and carries the
// call's own error as text only, so that nothing takes it for the
// caller's cancellation or for proof that the call was not processed.
func (w *tripWire) Guard(ctx context.Context, next resilience.Next) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	c := &wireCall{end: cancel}
	c.deadline, _ = ctx.Deadline()
	w.enter(c)
	defer w.leave(c)
	err := next.Run(ctx)
	if err != nil && errors.Is(context.Cause(ctx), errAbandoned) {
		return fmt.Errorf("%s: %w (%v)", w.name, errAbandoned, err)
	}
	return err
}
