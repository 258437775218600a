package timeout

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
)

// deadline derives the call's context and the function that releases it.
// mine is false when the caller's own deadline comes first (or its context
// is already done): then no context is made and ctx is used as is.
func (t *Timeout) deadline(ctx context.Context) (tctx context.Context, release context.CancelFunc, mine bool) {
	if t.clock == nil {
		at := time.Now().Add(t.timeout)
		if d, ok := ctx.Deadline(); ok && !d.After(at) {
			return ctx, nil, false
		}
		tctx, release := context.WithDeadlineCause(ctx, at, t.cause)
		return tctx, release, true
	}
	at := t.clock.Now().Add(t.timeout)
	if d, ok := ctx.Deadline(); (ok && !d.After(at)) || ctx.Err() != nil {
		return ctx, nil, false
	}
	tctx, release = withClockDeadline(ctx, t.clock, at, t.cause)
	return tctx, release, true
}

// withClockDeadline is context.WithDeadlineCause for an injected clock: the
// returned context reports at as its deadline and, once clk reaches it,
// context.DeadlineExceeded as its error and cause as its cause, and so does
// every context derived from it. (The clock package's own WithDeadline
// reports Canceled to derived contexts and starts a goroutine per context.)
//
// How: the context handed to the call is a plain child of a clockDeadline,
// made with context.WithCancel, so the function's own derived contexts
// (WithCancel, WithTimeout, WithValue, in any chain) attach to a standard
// cancelCtx at no extra cost. That child learns of the deadline through
// clockDeadline's AfterFunc method, which package context uses for a
// parent that is not one of its own types, and takes its error and cause
// from the clockDeadline: DeadlineExceeded, and cause.
func withClockDeadline(parent context.Context, clk clock.Clock, at time.Time, cause error) (context.Context, context.CancelFunc) {
	values, cancelValues := context.WithCancelCause(parent)
	d := &clockDeadline{values: values, deadline: at, cause: cause, done: make(chan struct{})}
	// The caller's cancellation reaches values at once; the hook carries it
	// on to d, from a goroutine of package context's.
	stopHook := context.AfterFunc(values, d.finish)
	timer := clk.AfterFunc(clk.Until(at), func() {
		stopHook() // the hook would only call finish again, from a new goroutine
		cancelValues(cause)
		d.finish()
	})
	call, cancelCall := context.WithCancel(d)
	return call, func() {
		cancelCall()
		timer.Stop()
		stopHook()
		cancelValues(context.Canceled) // detaches values from the caller's context
		d.finish()
	}
}

// clockDeadline is a context that ends when its clock reaches deadline,
// when its parent ends, or when its call is released.
//
// Its Done channel is its own, not that of the cancelCtx it asks for
// values: package context then cannot treat that cancelCtx as the parent
// of a derived context (which would give children its error, Canceled) and
// calls AfterFunc instead. Value still finds that cancelCtx, whose cause is
// the timeout's error once the deadline fires, so context.Cause reports it.
type clockDeadline struct {
	values   context.Context // a cancelCtx under the parent: values, and the cause for context.Cause
	deadline time.Time
	cause    error // what values is cancelled with when the deadline fires
	done     chan struct{}

	mu     sync.Mutex   // protects err and afters
	err    error        // set once, when done is closed
	afters []*afterFunc // run once, when done is closed
}

type afterFunc struct{ f func() }

func (d *clockDeadline) Deadline() (time.Time, bool) { return d.deadline, true }
func (d *clockDeadline) Done() <-chan struct{}       { return d.done }
func (d *clockDeadline) Value(key any) any           { return d.values.Value(key) }

func (d *clockDeadline) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// finish closes d after values has ended, with DeadlineExceeded when the
// deadline's cause is what ended it and values' own error otherwise, then
// runs the registered functions (the derived context's cancellation) on
// this goroutine, outside d's lock. It runs at most once in effect.
func (d *clockDeadline) finish() {
	d.mu.Lock()
	if d.err != nil {
		d.mu.Unlock()
		return
	}
	d.err = d.values.Err()
	if context.Cause(d.values) == d.cause {
		d.err = context.DeadlineExceeded
	}
	close(d.done)
	afters := d.afters
	d.afters = nil
	d.mu.Unlock()
	for _, a := range afters {
		a.f()
	}
}

// AfterFunc arranges for f to run once d ends, and is how package context
// propagates d's end to a context derived from it. stop reports whether it
// kept f from running.
func (d *clockDeadline) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		// Package context calls AfterFunc holding the child's lock, which f
		// takes: f must not run on this goroutine.
		go f()
		return func() bool { return false }
	}
	d.afters = append(d.afters, a)
	return func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		i := slices.Index(d.afters, a)
		if i < 0 {
			return false
		}
		d.afters = slices.Delete(d.afters, i, i+1)
		return true
	}
}
