package hedge

import (
	"context"
	"sync"
	"sync/atomic"
)

// firstCtx is the context of a call's first attempt: the caller's context,
// which the hedger can also cancel (for a winning hedge, and once the call
// is over).
//
// It is a context.WithCancel made only when needed. Most first attempts
// never wait on their context: they answer before the delay, or they
// hand the context to work of their own (a transport) that asks only Err.
// For them, a context.WithCancel is four objects and a registration with
// the caller's context, undone at once; this is one object and no
// registration. Its first Done (or a context derived from it, or
// context.AfterFunc on it, which ask Done) makes the real
// context.WithCancel, and from then on the context is that one: Done,
// Err and Value (hence context.Cause, and the way package context
// registers a derived context) are its own, so that an end reaches
// derived contexts at once, as it would with context.WithCancel from the
// start. Until then, Err is the hedger's cancellation or, once the caller's
// context has ended, its error.
//
// A firstCtx is fresh for every call, never pooled: the attempt may hand
// it to work that outlives the call.
type firstCtx struct {
	context.Context // the caller's: Deadline, and Value until linked

	linked atomic.Pointer[cancelLink] // the context.WithCancel, once made
	state  atomic.Uint32              // while unlinked: live, cancelled, or ended with the caller's

	mu sync.Mutex // serialises the making of linked and the hedger's cancel
}

// The states of an unlinked firstCtx. Err is asked of it on every policy
// on the attempt's way, so it reads them without a lock.
const (
	live uint32 = iota
	cancelled
	callerEnded // the caller's context ended first: Err is its error
)

// cancelLink is the context.WithCancel a firstCtx became.
type cancelLink struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// closedChan is the Done channel of a first context that ended before
// anyone asked for its channel.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Done returns the channel of the context.WithCancel it makes, on first
// use, or a closed channel when it has ended already.
func (c *firstCtx) Done() <-chan struct{} {
	if l := c.linked.Load(); l != nil {
		return l.ctx.Done()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if l := c.linked.Load(); l != nil {
		return l.ctx.Done()
	}
	if c.unlinkedErr() != nil {
		return closedChan
	}
	ctx, cancel := context.WithCancel(c.Context)
	c.linked.Store(&cancelLink{ctx, cancel})
	return ctx.Done()
}

// Err reports why the context ended, or nil.
func (c *firstCtx) Err() error {
	if l := c.linked.Load(); l != nil {
		return l.ctx.Err()
	}
	if err := c.unlinkedErr(); err != nil {
		return err
	}
	// Linked meanwhile (Done makes the link only while the context is
	// live, so the two agree on an end).
	if l := c.linked.Load(); l != nil {
		return l.ctx.Err()
	}
	return nil
}

// unlinkedErr is Err before any link: the hedger's cancellation or, once
// the caller's context has ended, its error, whichever came first.
func (c *firstCtx) unlinkedErr() error {
	switch c.state.Load() {
	case cancelled:
		return context.Canceled
	case callerEnded:
		return c.Context.Err()
	}
	if c.Context.Err() == nil {
		return nil
	}
	c.state.CompareAndSwap(live, callerEnded)
	if c.state.Load() == cancelled {
		return context.Canceled
	}
	return c.Context.Err()
}

// Value is the caller's value for key, or, once linked, the
// context.WithCancel's (the same, but for package context's own key).
func (c *firstCtx) Value(key any) any {
	if l := c.linked.Load(); l != nil {
		return l.ctx.Value(key)
	}
	return c.Context.Value(key)
}

// cancel ends the context with context.Canceled, unless it has ended.
func (c *firstCtx) cancel() {
	if l := c.linked.Load(); l == nil {
		c.mu.Lock()
		if l = c.linked.Load(); l == nil {
			c.state.CompareAndSwap(live, cancelled)
		}
		c.mu.Unlock()
		if l == nil {
			return
		}
	}
	c.linked.Load().cancel()
}
