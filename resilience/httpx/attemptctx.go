package httpx

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// attemptCtx is the context an attempt's request is sent with when the
// attempt needs one of its own (AttemptTimeout, or hedging). It ends when
// its parent ends, when it is released, and, until the response headers
// arrive, at the AttemptTimeout deadline and when the hedger gives up on
// the attempt.
//
// Until the headers arrive it reports the attempt's deadline, and once
// that passes it reports context.DeadlineExceeded, as does every context
// derived from it: a Dialer, a TLS handshake or a base RoundTripper sees
// a deadline, not a cancellation. After the headers it is its parent for
// timing, so that the body can be read as long as the request lives. A
// standard context cannot drop its deadline, hence this type.
//
// Its Done channel is its own, so package context propagates its end to
// derived contexts through its AfterFunc method, with its error.
type attemptCtx struct {
	parent   context.Context
	deadline time.Time // the zero Time when there is no AttemptTimeout
	bounded  atomic.Bool
	done     chan struct{}

	timer       interface{ Stop() bool } // AttemptTimeout, until the headers are in
	unlinkHedge func() bool              // the hedger's cancellation, until the headers are in
	unlinkEnd   func() bool              // the parent's end; nil when it cannot end

	mu     sync.Mutex   // protects the fields below
	err    error        // set once, when done is closed
	afters []*afterFunc // run once, when done is closed
	// Storage for the first afters: net/http derives a context or two
	// from each request's, and these spare them two allocations each.
	inline     [2]afterFunc
	inlinePtrs [2]*afterFunc
	inlineUsed int
}

type afterFunc struct{ f func() }

// begin derives the attempt's request context from the pipeline's (actx).
// Without AttemptTimeout and hedging it is actx itself, and begin returns
// nil. Otherwise the context must outlive the attempt: the body is read
// after the pipeline returns, when a hedger has cancelled actx. So a
// hedged attempt's context derives from the exchange's, and actx reaches
// it only until the headers are in.
func (ex *exchange) begin(actx context.Context) *attemptCtx {
	t := ex.t
	if t.attemptTimeout <= 0 && !ex.hedged {
		return nil
	}
	a := &attemptCtx{parent: actx, done: make(chan struct{})}
	if ex.hedged {
		a.parent = ex.ctx
		a.unlinkHedge = context.AfterFunc(actx, func() { a.end(actx.Err()) })
	}
	if a.parent.Done() != nil { // a parent that can never end (Background's) costs no link
		a.unlinkEnd = context.AfterFunc(a.parent, func() { a.end(a.parent.Err()) })
	}
	if t.attemptTimeout > 0 {
		a.deadline = t.now().Add(t.attemptTimeout)
		a.bounded.Store(true)
		a.timer = t.armAttemptTimer(a)
	}
	return a
}

// Deadline is the attempt's deadline until the headers arrive, or the
// parent's when it is earlier; then the parent's.
func (a *attemptCtx) Deadline() (time.Time, bool) {
	d, ok := a.parent.Deadline()
	if a.bounded.Load() && (!ok || a.deadline.Before(d)) {
		return a.deadline, true
	}
	return d, ok
}

func (a *attemptCtx) Done() <-chan struct{} { return a.done }
func (a *attemptCtx) Value(key any) any     { return a.parent.Value(key) }

func (a *attemptCtx) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// end closes the context with err, unless it has ended already, and then
// runs the registered functions outside the lock.
func (a *attemptCtx) end(err error) {
	a.mu.Lock()
	if a.err != nil {
		a.mu.Unlock()
		return
	}
	a.err = err
	close(a.done)
	afters := a.afters
	a.afters = nil
	a.mu.Unlock()
	for _, f := range afters {
		f.f()
	}
}

// expire ends the context at the AttemptTimeout deadline.
func (a *attemptCtx) expire() { a.end(context.DeadlineExceeded) }

// AfterFunc arranges for f to run once a ends; package context uses it to
// end the contexts derived from a. stop reports whether it kept f from
// running.
func (a *attemptCtx) AfterFunc(f func()) (stop func() bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		// Package context calls AfterFunc holding the derived context's
		// lock, which f takes: f must not run on this goroutine.
		go f()
		return func() bool { return false }
	}
	var af *afterFunc
	if a.inlineUsed < len(a.inline) {
		af = &a.inline[a.inlineUsed]
		af.f = f
		a.inlineUsed++
	} else {
		af = &afterFunc{f: f}
	}
	if a.afters == nil {
		a.afters = a.inlinePtrs[:0]
	}
	a.afters = append(a.afters, af)
	return func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		i := slices.Index(a.afters, af)
		if i < 0 {
			return false
		}
		a.afters = slices.Delete(a.afters, i, i+1)
		return true
	}
}

// headersIn detaches the context from its deadline and its hedger, and
// reports whether the deadline had passed. A nil a has neither.
func (a *attemptCtx) headersIn() (expired bool) {
	if a == nil {
		return false
	}
	if a.unlinkHedge != nil {
		a.unlinkHedge()
	}
	if a.timer == nil {
		return false
	}
	// A pooled timer stopped in time may serve another attempt at once:
	// forget it, so that release does not stop it again.
	expired = !a.timer.Stop()
	a.timer = nil
	if !expired {
		a.bounded.Store(false)
	}
	return expired
}

// release ends the context, once nothing more will be read under it. It
// comes after headersIn, which has stopped the timer and the hedger's link.
func (a *attemptCtx) release() {
	if a == nil {
		return
	}
	if a.unlinkEnd != nil {
		a.unlinkEnd()
	}
	a.end(context.Canceled)
}

// attemptTimer ends an attempt's context when AttemptTimeout passes before
// its headers arrive. On the real clock the timers are pooled by their
// transport, since a timer and its function cost two allocations per
// attempt; a pooled timer stays in the synctest bubble of its transport.
type attemptTimer struct {
	timer *time.Timer
	pool  *sync.Pool
	ctx   *attemptCtx // set before the timer is armed, read when it fires
}

func (at *attemptTimer) fire() { at.ctx.expire() }

// Stop stops the timer and reports whether it had not fired. Only a timer
// stopped in time goes back to the pool: one that fired may still be
// running its function.
func (at *attemptTimer) Stop() bool {
	if !at.timer.Stop() {
		return false
	}
	at.ctx = nil
	at.pool.Put(at)
	return true
}

// armAttemptTimer starts AttemptTimeout for the attempt context a.
func (t *Transport) armAttemptTimer(a *attemptCtx) interface{ Stop() bool } {
	if t.clock != nil {
		return t.clock.AfterFunc(t.attemptTimeout, a.expire)
	}
	if at, ok := t.timers.Get().(*attemptTimer); ok {
		at.ctx = a
		at.timer.Reset(t.attemptTimeout)
		return at
	}
	at := &attemptTimer{pool: &t.timers, ctx: a}
	at.timer = time.AfterFunc(t.attemptTimeout, at.fire)
	return at
}
