package httpx

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ownCtx is a context of the transport's own, for the two bounds a
// standard context cannot express cheaply or at all:
//
//   - the request's context under Timeout: it carries the
//     Timeout deadline for the whole request, body included, and ends
//     with its parent (the caller's context) or when released;
//   - an attempt's context (AttemptTimeout, or hedging): it carries the
//     attempt's deadline until the response headers arrive, and then
//     drops it, which a standard context cannot do; it ends with its
//     parent, when released, and, until the headers, when the hedger
//     gives up on the attempt.
//
// Once a deadline of its own passes it reports context.DeadlineExceeded,
// as does every context derived from it: package context reaches those
// through the AfterFunc method, with this context's error. A Dialer, a
// TLS handshake or a base RoundTripper sees a deadline, not a
// cancellation. context.Cause of it is its error: the transport wraps a
// request that failed on Timeout in a *timeout.Error itself (see
// exchange.finish).
//
// Why not context.WithTimeout and context.AfterFunc: per request they
// cost a timer, a map of children in each parent and three or four
// objects per link; an attempt context links to the request's context
// (a parent of ours) with one field, timers on the real clock are pooled
// by the transport, and a request's context shares its timer with its
// first attempt's (see deadlineTimer). See BenchmarkTransportOverhead.
type ownCtx struct {
	parent   context.Context
	deadline time.Time     // the zero Time when there is no bound of its own
	bounded  atomic.Bool   // deadline is in force
	fired    atomic.Bool   // it ended at its own deadline
	hasDone  atomic.Bool   // done is set, and never written again
	ended    atomic.Uint32 // the errCode of why it ended: set once, under mu
	done     chan struct{}

	timer     interface{ Stop() bool } // the deadline, until it fires or is no longer wanted
	up        *ownCtx                  // the parent, when it is ours: it ends this one itself
	ex        *exchange                // the request's context only: its exchange
	unlinkEnd func() bool              // the parent's end, when the parent is not ours and can end

	// Hedged attempts only. hedge is set before the attempt is shared;
	// unlinkHedge is guarded by the exchange's mutex.
	hedge       context.Context // the hedger's context of the attempt
	unlinkHedge func() bool     // set once linked to hedge, until the headers are in

	// The fields below are kept small: a request with Timeout and
	// AttemptTimeout holds two of these, and the exchange, both and the
	// first body fit in 512 bytes (see extras and TestExchangeSize).
	mu    sync.Mutex // protects the fields below, and the setting of done and ended
	kid   *ownCtx    // the first context of ours ending with this one
	more  *ctxMore   // what rarely happens: more kids or functions, an unusual error
	first [2]func()  // the first functions to run once done is closed; see AfterFunc
}

// ctxMore is the part of an ownCtx that a request rarely needs: it is
// made only then.
type ctxMore struct {
	err    error        // the error, when ended is errOther; set before it
	kids   []*ownCtx    // contexts of ours ending with this one, after kid
	afters []*afterFunc // run once, when done is closed, unless stopped
}

// errCode is why an ownCtx ended: the two errors of package context
// take no room; any other is kept in ctxMore. It is atomic so that Err,
// which every policy on a request's way asks, takes no lock.
type errCode = uint32

const (
	errNone errCode = iota
	errCanceled
	errDeadline
	errOther
)

type afterFunc struct{ f func() }

// closedChan is the Done channel of a context that ended before anyone
// asked for its channel.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// moreLocked returns c.more, made on first use; c.mu is held.
func (c *ownCtx) moreLocked() *ctxMore {
	if c.more == nil {
		c.more = new(ctxMore)
	}
	return c.more
}

// loadErr returns the error c ended with, or nil.
func (c *ownCtx) loadErr() error {
	switch c.ended.Load() {
	case errNone:
		return nil
	case errCanceled:
		return context.Canceled
	case errDeadline:
		return context.DeadlineExceeded
	}
	return c.more.err
}

// setErrLocked records err, not nil, as why c ended; c.mu is held.
func (c *ownCtx) setErrLocked(err error) {
	switch err {
	case context.Canceled:
		c.ended.Store(errCanceled)
	case context.DeadlineExceeded:
		c.ended.Store(errDeadline)
	default:
		c.moreLocked().err = err
		c.ended.Store(errOther)
	}
}

// link makes c end when parent does: directly when parent is ours, by
// context.AfterFunc when it is another context that can end.
func (c *ownCtx) link(parent context.Context) {
	c.parent = parent
	if up, ok := parent.(*ownCtx); ok {
		c.up = up
		up.adopt(c)
		return
	}
	if parent.Done() == nil { // a parent that can never end (Background's) costs no link
		return
	}
	if err := parent.Err(); err != nil {
		c.end(err)
		return
	}
	c.unlinkEnd = context.AfterFunc(parent, func() { c.end(parent.Err()) })
}

// adopt arranges for kid to end when c does. The request's context has
// one attempt context at a time, unless it is hedged: the first kid takes
// no allocation.
func (c *ownCtx) adopt(kid *ownCtx) {
	c.mu.Lock()
	if err := c.loadErr(); err != nil {
		c.mu.Unlock()
		kid.end(err)
		return
	}
	if c.kid == nil {
		c.kid = kid
	} else {
		m := c.moreLocked()
		m.kids = append(m.kids, kid)
	}
	c.mu.Unlock()
}

// disown forgets kid, released before c ended.
func (c *ownCtx) disown(kid *ownCtx) {
	c.mu.Lock()
	if c.kid == kid {
		c.kid = nil
	} else if m := c.more; m != nil {
		if i := slices.Index(m.kids, kid); i >= 0 {
			m.kids = slices.Delete(m.kids, i, i+1)
		}
	}
	c.mu.Unlock()
}

// Deadline is c's own deadline while it is in force, or the parent's
// when that is earlier.
func (c *ownCtx) Deadline() (time.Time, bool) {
	d, ok := c.parent.Deadline()
	if c.bounded.Load() && (!ok || c.deadline.Before(d)) {
		return c.deadline, true
	}
	return d, ok
}

// Done returns a channel closed when c ends, made on first use: a
// request's context nobody waits on costs no channel.
func (c *ownCtx) Done() <-chan struct{} {
	if c.hasDone.Load() {
		return c.done
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.hasDone.Load() {
		c.done = make(chan struct{})
		c.hasDone.Store(true)
	}
	return c.done
}

func (c *ownCtx) Value(key any) any { return c.parent.Value(key) }

func (c *ownCtx) Err() error { return c.loadErr() }

// end closes the context with err, unless it has ended already, and then
// ends its kids and runs the registered functions, outside the lock.
func (c *ownCtx) end(err error) {
	c.mu.Lock()
	if c.ended.Load() != errNone {
		c.mu.Unlock()
		return
	}
	c.setErrLocked(err)
	if c.hasDone.Load() {
		close(c.done)
	} else {
		c.done = closedChan
		c.hasDone.Store(true)
	}
	kid, first := c.kid, c.first
	c.kid, c.first = nil, [2]func(){}
	var kids []*ownCtx
	var afters []*afterFunc
	if m := c.more; m != nil {
		kids, afters = m.kids, m.afters
		m.kids, m.afters = nil, nil
	}
	c.mu.Unlock()
	if kid != nil {
		kid.end(err)
	}
	for _, k := range kids {
		k.end(err)
	}
	for _, f := range first {
		if f != nil {
			f()
		}
	}
	for _, f := range afters {
		f.f()
	}
}

// expire ends the context at its own deadline.
func (c *ownCtx) expire() {
	c.fired.Store(true)
	c.end(context.DeadlineExceeded)
}

// AfterFunc arranges for f to run once c ends; package context uses it to
// end the contexts derived from c. stop reports whether it kept f from
// running; the stop of the first registrations keeps nothing, see below.
func (c *ownCtx) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended.Load() != errNone {
		// Package context calls AfterFunc holding the derived context's
		// lock, which f takes: f must not run on this goroutine.
		go f()
		return keptNothing
	}
	if i := freeFirst(&c.first); i >= 0 {
		// The first registrations are kept until c ends, and their stop
		// does nothing, which spares a closure per derived context.
		// Package context, the caller here (net/http derives a context
		// or two from each request's, a hedger one from the exchange's
		// when it hedges), ignores what stop reports, and a derived context
		// that ended before c is ended again by f at no effect: f only
		// cancels it. So the cost is two small entries held a little
		// longer, never more.
		c.first[i] = f
		return keptNothing
	}
	af := &afterFunc{f: f}
	m := c.moreLocked()
	m.afters = append(m.afters, af)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		i := slices.Index(m.afters, af)
		if i < 0 {
			return false
		}
		m.afters = slices.Delete(m.afters, i, i+1)
		return true
	}
}

// freeFirst returns the index of the first free slot of first, or -1.
func freeFirst(first *[2]func()) int {
	for i, f := range first {
		if f == nil {
			return i
		}
	}
	return -1
}

// keptNothing is the stop of a registration it cannot stop.
func keptNothing() bool { return false }

// release ends the context, once nothing more will be read under it: its
// timer is stopped, its links to its parent undone. A nil c has nothing
// to release.
func (c *ownCtx) release() {
	if c == nil {
		return
	}
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if c.unlinkEnd != nil {
		c.unlinkEnd()
	}
	if c.up != nil {
		c.up.disown(c)
	}
	c.end(context.Canceled)
}
