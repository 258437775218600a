package timeout

import (
	"context"
	"sync/atomic"

	"github.com/riprap-go/riprap/resilience"
)

// States of an abandon-mode call, for the handshake between the caller and
// the goroutine running the attempt: whichever moves the state away from
// running first decides who owns the result.
const (
	running int32 = iota
	finished
	abandoned
)

// attempt is one abandon-mode run of the rest of the pipeline, on its own
// goroutine and its own fork of the call, so that an abandoned run never
// writes the caller's result.
type attempt struct {
	fork  resilience.Next
	done  chan outcome // buffered: the goroutine never blocks on it
	state atomic.Int32
}

type outcome struct {
	err error
	pan *resilience.PanicError
}

func (t *Timeout) abandon(ctx context.Context, next resilience.Next) error {
	tctx, release, mine := t.deadline(ctx)
	if !mine {
		// The caller's deadline is the earlier one; it still bounds the wait.
		tctx, release = context.WithCancel(ctx)
	}
	a := &attempt{fork: next.Fork(), done: make(chan outcome, 1)}
	go t.run(tctx, release, a)
	select {
	case o := <-a.done:
		return t.settle(ctx, tctx, mine, next, a, o)
	case <-tctx.Done():
	}
	// Count before claiming, so that the goroutine's decrement, which
	// follows the claim, never takes the gauge below zero.
	t.abandoned.Add(1)
	if !a.state.CompareAndSwap(running, abandoned) {
		// The attempt finished while the deadline fired: use its result.
		t.abandoned.Add(-1)
		return t.settle(ctx, tctx, mine, next, a, <-a.done)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return t.fired(nil)
}

// run runs the attempt on its own goroutine. When the caller has abandoned
// it by the time it returns, a panic is counted and reported to the
// listeners, since no caller is left to receive it.
func (t *Timeout) run(ctx context.Context, release context.CancelFunc, a *attempt) {
	var o outcome
	defer func() {
		if v := recover(); v != nil {
			o.pan = resilience.NewPanicError(v)
		}
		// Send and claim before releasing the context: releasing first
		// would let the caller mistake a finished call for a timeout.
		a.done <- o
		claimed := a.state.CompareAndSwap(running, finished)
		release()
		if !claimed {
			t.abandonedEnded(o.pan)
		}
	}()
	o.err = a.fork.Run(ctx)
}

func (t *Timeout) abandonedEnded(pan *resilience.PanicError) {
	t.abandoned.Add(-1)
	if pan == nil {
		return
	}
	t.panics.Add(1)
	if t.events.Wants(resilience.EventPanic) {
		t.events.Emit(resilience.Event{Kind: resilience.EventPanic, Policy: policyName, Name: t.name,
			Time: t.now(), Err: pan})
	}
}

// settle hands a finished attempt's result to the caller: its panic is
// raised again here, its value adopted, its error returned (as a timeout
// when the deadline is what ended it).
func (t *Timeout) settle(ctx, tctx context.Context, mine bool, next resilience.Next, a *attempt, o outcome) error {
	if o.pan != nil {
		panic(o.pan)
	}
	next.Adopt(a.fork)
	if o.err != nil && mine && ctx.Err() == nil && t.ownDeadline(tctx) {
		return t.fired(o.err)
	}
	return o.err
}
