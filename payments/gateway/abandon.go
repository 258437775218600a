package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

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
// It is safe for concurrent use. It learns of the breaker's state from a
// listener, so it works only on a breaker created with that listener: one
// taken from a Registry where another gateway created it first keeps its
// calls.
type tripWire struct {
	name string // the breaker's

	// sig is the signal of the calls now in flight: fire cancels it and
	// swaps in a fresh one. An atomic pointer, so a call reads it without
	// a lock.
	sig atomic.Pointer[wireSignal]
}

// wireSignal is one generation of a tripWire: a context and its cancel.
type wireSignal struct {
	ctx  context.Context
	trip context.CancelFunc
}

func newWireSignal() *wireSignal {
	ctx, trip := context.WithCancel(context.Background())
	return &wireSignal{ctx: ctx, trip: trip}
}

func newTripWire(name string) *tripWire {
	w := &tripWire{name: name}
	w.sig.Store(newWireSignal())
	return w
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

// fire ends every call in flight and arms the wire for the calls after.
func (w *tripWire) fire() {
	w.sig.Swap(newWireSignal()).trip()
}

// Guard runs the rest of the pipeline, ending it if the wire fires first.
// The error of an abandoned call matches errAbandoned and carries the
// call's own error as text only, so that nothing takes it for the
// caller's cancellation or for proof that the call was not processed.
func (w *tripWire) Guard(ctx context.Context, next resilience.Next) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(w.sig.Load().ctx, func() { cancel(errAbandoned) })
	defer stop()
	err := next.Run(ctx)
	if err != nil && errors.Is(context.Cause(ctx), errAbandoned) {
		return fmt.Errorf("%s: %w (%v)", w.name, errAbandoned, err)
	}
	return err
}
