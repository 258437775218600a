package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// errFinished ends an attempt that a hedger started too late to matter:
// the caller already has its answer.
var errFinished = errors.New("httpx: request already answered")

// exchange is one RoundTrip: the caller's request, the context every
// attempt derives from, and, when the attempts are hedged, every response
// they produced, so that each one the caller does not get is closed.
// Hedged attempts run at once, hence the mutex.
type exchange struct {
	t      *Transport
	req    *http.Request
	ctx    context.Context // the caller's, or x.own when Timeout bounds it
	x      *extras         // nil when there is no Timeout, AttemptTimeout or hedging
	owned  bool            // ctx is x.own, released with the response
	hedged bool            // attempts run on a hedger's contexts

	// The fields below are guarded by mu (kept next to owned and hedged,
	// to share their word).
	done    bool       // RoundTrip is returning: late responses are closed at once
	claimed bool       // an attempt has sent req.Body itself
	mu      sync.Mutex // protects the fields around it
	kept    []kept     // hedged: every response with a body, in arrival order
	inline  [2]kept    // kept's first backing array: one retry allocates nothing more
}

// extras is what an exchange with contexts of its own would otherwise
// allocate piece by piece: the request's context under Timeout, the first
// attempt's context and the wrapper of its response body. A plain
// exchange goes without. Extras are never reused, since these outlive
// RoundTrip (in the caller's hands, or net/http's).
type extras struct {
	own            ownCtx // the request's context under Timeout
	firstCtx       ownCtx // the first attempt's context, see attemptCtx
	firstBody      body   // the first wrapped response body, see wrapBody
	firstCtxTaken  atomic.Bool
	firstBodyTaken atomic.Bool

	// Hedged exchanges only (which always have extras), under the
	// exchange's mutex; see enterHedged.
	started int     // attempts started in the current hedger call
	lazy    *ownCtx // the first of them, not linked to its hedger yet
}

// startTimeout bounds the exchange's context by Timeout, on the real
// clock, as http.Client's Timeout is.
func (ex *exchange) startTimeout() {
	t, c := ex.t, &ex.x.own
	c.ex = ex
	now := time.Now()
	c.deadline = now.Add(t.timeout)
	c.bounded.Store(true)
	c.link(ex.ctx)
	t.armTimeout(c, &ex.x.firstCtx, now)
	ex.ctx, ex.owned = c, true
}

// kept is a response handed out by an attempt and the body wrapper that
// releases its context.
type kept struct {
	resp *http.Response
	body *body
}

// attempt sends one copy of the request. It is the function the pipeline
// runs, once or, with a retry or a hedger, several times.
func (ex *exchange) attempt(actx context.Context) (*http.Response, error) {
	reqBody, copied, err := ex.body()
	if err != nil {
		return nil, err
	}
	a := ex.begin(actx)
	r := ex.req
	if a != nil || ex.owned || copied {
		var ctx context.Context = actx
		if a != nil {
			ctx = a // not a nil *ownCtx in an interface
		}
		r = r.WithContext(ctx) // a copy: a RoundTripper must not change the caller's request
		r.Body = reqBody
	}
	resp, err := ex.t.base.RoundTrip(r)
	expired := ex.headersIn(a)
	switch {
	case err == nil && resp == nil:
		err = errors.New("httpx: base RoundTripper returned neither a response nor an error")
	case expired && actx.Err() == nil: // our own deadline, not the caller or a hedger
		a.expire() // the timer's function may not have run yet: end the context as a deadline
		if resp != nil {
			abandon(resp.Body, a)
		}
		return nil, &timeout.Error{Name: "httpx attempt", Timeout: ex.t.attemptTimeout, Err: err}
	case err == nil && actx.Err() != nil:
		// A hedger gave up on this attempt, or the caller left, as the
		// headers came in: the response's context is ending.
		abandon(resp.Body, a)
		return nil, context.Cause(actx)
	}
	if err != nil {
		a.release()
		return nil, err
	}
	if !ex.keep(resp, a) {
		return nil, errFinished
	}
	return resp, nil
}

// body returns the request body for an attempt: the caller's own for the
// first attempt to ask, a fresh copy from GetBody (copied) for the others.
// A copy that cannot be made ends the retries (it is no fault of the
// server's).
func (ex *exchange) body() (rc io.ReadCloser, copied bool, err error) {
	req := ex.req
	if req.Body == nil || req.Body == http.NoBody {
		return req.Body, false, nil
	}
	ex.mu.Lock()
	done, first := ex.done, !ex.claimed
	if !done {
		ex.claimed = true
	}
	ex.mu.Unlock()
	switch {
	case done:
		return nil, false, errFinished
	case first:
		return req.Body, false, nil
	case req.GetBody == nil: // not reached: such requests are not repeated
		err = errors.New("httpx: the request body cannot be sent again (no GetBody)")
	default:
		if rc, err = req.GetBody(); err == nil {
			return rc, true, nil
		}
		err = fmt.Errorf("httpx: rewinding the request body: %w", err)
	}
	return nil, false, &resilience.Judged{Outcome: resilience.Ignored, Err: backoff.Permanent(err)}
}

// keep wraps a response's body, when there is a context to release once
// it is closed (or read to its end), and records the response when the
// attempts are hedged, so that finish can close those the caller does not
// get. Sequential attempts need no record: each response a retry drops is
// drained by discardPrevious, and the last one is the caller's. It reports
// false, having closed the response, when the exchange is over: a hedge
// that answered after the caller got its answer.
func (ex *exchange) keep(resp *http.Response, a *ownCtx) bool {
	if resp.Body == nil || resp.Body == http.NoBody {
		a.release() // nothing will be read; a late one needs no closing either
		return true
	}
	if a == nil && !ex.owned {
		return true // not hedged (a hedged attempt has a context of its own) and nothing to release
	}
	b := ex.wrapBody(resp, a)
	if !ex.hedged {
		return true
	}
	ex.mu.Lock()
	if ex.done {
		ex.mu.Unlock()
		abandon(resp.Body, a)
		return false
	}
	if ex.kept == nil {
		ex.kept = ex.inline[:0]
	}
	ex.kept = append(ex.kept, kept{resp, b})
	ex.mu.Unlock()
	return true
}

// finish ends the exchange: it closes every response but resp, closes the
// request body if no attempt sent it, and ties the release of Timeout's
// context to resp's body.
func (ex *exchange) finish(resp *http.Response, err error) (*http.Response, error) {
	ex.mu.Lock()
	ex.done = true
	claimed, all := ex.claimed, ex.kept
	ex.kept = nil
	ex.mu.Unlock()
	for _, k := range all {
		if k.resp != resp && !k.body.released() {
			abandon(k.resp.Body, k.body.cancel)
		}
	}
	if !claimed && ex.req.Body != nil {
		_ = ex.req.Body.Close() // no attempt sent it; a RoundTripper must close it
	}
	if err != nil || resp == nil {
		if ex.owned {
			ex.x.own.release()
			err = ex.x.own.timedOut(err)
		}
		return nil, err
	}
	resp.Request = ex.req
	if ex.owned {
		switch b := resp.Body.(type) {
		case *body:
			b.timeout = &ex.x.own
		case rwBody:
			b.timeout = &ex.x.own
		default:
			ex.x.own.release() // a response without a body: nothing left to bound
		}
	}
	return resp, nil
}

// timedOut makes err, when the request's context ended at Timeout,
// a *timeout.Error, as the transport's own bound: the contexts derived
// from it report plain context.DeadlineExceeded.
func (c *ownCtx) timedOut(err error) error {
	if err == nil || !c.fired.Load() || !errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, timeout.ErrTimeout) {
		return err
	}
	return &timeout.Error{Name: "httpx", Timeout: c.ex.t.timeout, Err: err}
}

// drain drains and closes a response nobody will use.
func drain(resp *http.Response) {
	if resp.Body != nil {
		DrainBody(resp.Body)
	}
}

// abandon closes a response that lost: its context is cancelled first, so
// that net/http drops the connection rather than wait for the rest.
func abandon(rc io.ReadCloser, a *ownCtx) {
	a.release()
	_ = rc.Close()
}

// body wraps a response body to release the attempt's context (and, for
// the response returned, Timeout's) once the body is read to its end or
// closed. Read and Close may be called from different goroutines, as
// net/http allows.
type body struct {
	rc      io.ReadCloser
	cancel  *ownCtx // the attempt's context; nil when it was the pipeline's
	timeout *ownCtx // Timeout's context; set on the body returned, before it is
	freed   atomic.Bool
}

// rwBody keeps the io.Writer of a 101 Switching Protocols body, which
// net/http hands out as an io.ReadWriteCloser.
type rwBody struct {
	*body
	w io.Writer
}

func (b rwBody) Write(p []byte) (int, error) { return b.w.Write(p) }

// wrapBody replaces resp.Body by a *body, or an rwBody for a writable one.
// The first it wraps is the exchange's own.
func (ex *exchange) wrapBody(resp *http.Response, cancel *ownCtx) *body {
	b := &ex.x.firstBody
	if !ex.x.firstBodyTaken.CompareAndSwap(false, true) {
		b = new(body)
	}
	b.rc, b.cancel = resp.Body, cancel
	if w, ok := resp.Body.(io.Writer); ok {
		resp.Body = rwBody{b, w}
	} else {
		resp.Body = b
	}
	return b
}

// Read reads the body. Reaching its end releases the contexts: net/http
// has put the connection back in its pool by the time it reports io.EOF.
func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.free()
	case err != nil && b.timeout != nil:
		err = b.timeout.timedOut(err)
	}
	return n, err
}

// Close closes the body and releases the contexts.
func (b *body) Close() error {
	err := b.rc.Close()
	b.free()
	return err
}

func (b *body) released() bool { return b.freed.Load() }

func (b *body) free() {
	if b.freed.Swap(true) {
		return
	}
	b.cancel.release()
	b.timeout.release()
}
