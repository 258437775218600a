package httpx

import (
	"context"
)

// begin derives the attempt's request context from the pipeline's (actx).
// Without AttemptTimeout and hedging it is actx itself, and begin returns
// nil. Otherwise the context must outlive the attempt: the body is read
// after the pipeline returns, when a hedger has cancelled actx. So a
// hedged attempt's context derives from the exchange's, and actx reaches
// it only until the headers are in (see enterHedged).
//
// The first attempt's context is stored in the exchange, so that a
// request sent once costs no allocation for it.
func (ex *exchange) begin(actx context.Context) *ownCtx {
	t := ex.t
	if t.attemptTimeout <= 0 && !ex.hedged {
		return nil
	}
	a := ex.attemptCtx()
	parent := actx
	if ex.hedged {
		parent, a.hedge = ex.ctx, actx
	}
	a.link(parent)
	if t.attemptTimeout > 0 {
		a.deadline = t.now().Add(t.attemptTimeout)
		a.bounded.Store(true)
		if fd, ok := a.timer.(*firstDeadline); !ok || !fd.register(a, &ex.x.own) {
			a.timer = t.armTimer(a, t.attemptTimeout, t.clock)
		}
	}
	if ex.hedged {
		ex.enterHedged(a)
	}
	return a
}

// attemptCtx returns the exchange's own attempt context to the first
// attempt that asks, and a new one to the others.
func (ex *exchange) attemptCtx() *ownCtx {
	if ex.x.firstCtxTaken.CompareAndSwap(false, true) {
		return &ex.x.firstCtx
	}
	return new(ownCtx)
}

// enterHedged links a hedged attempt to its hedger's context, so that it
// ends when the hedger gives up on it, but lazily: the hedger cancels an
// attempt only for another attempt of the same call (a hedge that won),
// or once the call is over (then the headers are in, or the exchange's
// context, which the attempt follows, has ended). So the first attempt of
// a call stays unlinked until a second one starts, and a call answered
// before its hedge delay, the common case, pays no link (context.AfterFunc
// on the hedger's context costs a map and three objects). Every later
// attempt of the call is linked at once, and so is one whose hedger has
// given up already: a hedge of an earlier call (of an earlier retry)
// that was slow to start. Its hedger cancelled it before returning, so
// before newRound, which this follows under the mutex: it is seen here.
func (ex *exchange) enterHedged(a *ownCtx) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.x.started++
	if ex.x.started == 1 && a.hedge.Err() == nil {
		ex.x.lazy = a
		return
	}
	if l := ex.x.lazy; l != nil {
		ex.x.lazy = nil
		l.linkHedge()
	}
	a.linkHedge()
}

// newRound starts counting the attempts of a new hedger call: the retry
// runs one per attempt. Its first attempt may go unlinked again.
func (ex *exchange) newRound() {
	ex.mu.Lock()
	ex.x.started, ex.x.lazy = 0, nil
	ex.mu.Unlock()
}

// linkHedge makes a end when its hedger's context does; it runs under the
// exchange's mutex.
func (a *ownCtx) linkHedge() {
	h := a.hedge
	a.unlinkHedge = context.AfterFunc(h, func() { a.end(h.Err()) })
}

// headersIn detaches the attempt context from its deadline and its
// hedger, and reports whether the deadline had passed. A nil a has
// neither.
func (ex *exchange) headersIn(a *ownCtx) (expired bool) {
	if a == nil {
		return false
	}
	if a.hedge != nil {
		ex.mu.Lock()
		if ex.x.lazy == a {
			ex.x.lazy = nil
		}
		unlink := a.unlinkHedge
		a.unlinkHedge = nil
		ex.mu.Unlock()
		if unlink != nil {
			unlink()
		}
	}
	if a.timer == nil {
		return false
	}
	// A pooled timer stopped in time may serve another context at once:
	// forget it, so that release does not stop it again.
	if fd, ok := a.timer.(*firstDeadline); ok {
		expired = !fd.unregister(a)
	} else {
		expired = !a.timer.Stop()
	}
	a.timer = nil
	if !expired {
		a.bounded.Store(false)
	}
	return expired
}
