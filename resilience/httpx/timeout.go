package httpx

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// TimeoutConfig configures [Timeout]. The zero value is ready to use.
type TimeoutConfig struct {
	// Refused writes the body of the 503 answer after the middleware has
	// set the status and headers; nil writes "request timed out\n". It
	// must not call WriteHeader.
	Refused func(w http.ResponseWriter, r *http.Request)
}

// Timeout returns server middleware that bounds each request by t. The
// handler runs with a context that ends at t's deadline, with
// context.DeadlineExceeded and t's *timeout.Error as its cause, and its
// response is held back until it returns: a handler done in time has its
// response sent as written; one that is not gets nothing sent, and the
// client gets 503 Service Unavailable instead, never a connection left
// hanging. Writes after that fail with http.ErrHandlerTimeout.
//
// t's mode decides when the 503 goes out. With timeout.Abandon it goes at
// the deadline, even when the handler ignores its context; the handler
// runs on, on a goroutine of its own, until it returns, and a panic it
// raises then reaches t's listeners as an EventPanic. With
// timeout.Cooperative (timeout.After) the handler runs on the request's
// goroutine and the 503 goes once it has returned, which a handler that
// honours its context does at once.
//
// Since the response is held in memory until the handler returns, the
// middleware does not suit handlers that stream (the writer does not
// implement http.Flusher) or hijack the connection; bound those with the
// request's context instead. A panic in the handler before the deadline
// reaches net/http as usual. A request whose client has gone gets 503 too
// (nobody reads it), and a nil or unconfigured t answers every request
// with 500 Internal Server Error: a programmer's error, reported without a
// panic.
func Timeout(t *timeout.Timeout, cfg TimeoutConfig) func(http.Handler) http.Handler {
	if cfg.Refused == nil {
		cfg.Refused = func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("request timed out\n")) }
	}
	chain := resilience.NewChain(t)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if t == nil {
				http.Error(w, "httpx: Timeout without a timeout", http.StatusInternalServerError)
				return
			}
			defer keepAbort()
			bw := &bufferedWriter{header: make(http.Header)}
			err := chain.Run(r.Context(), func(ctx context.Context) error {
				next.ServeHTTP(bw, r.WithContext(ctx))
				// A cooperative timeout learns that its deadline ended the
				// call from the call's error.
				return ctx.Err()
			})
			if bw.seal(err == nil) {
				bw.writeTo(w)
				return
			}
			switch {
			case errors.Is(err, timeout.ErrTimeout), r.Context().Err() != nil:
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(http.StatusServiceUnavailable)
				cfg.Refused(w, r)
			default: // an unconfigured timeout: the handler never ran
				http.Error(w, "internal server error", http.StatusInternalServerError)
			}
		})
	}
}

// keepAbort turns a handler's http.ErrAbortHandler, which an abandoning
// timeout hands over inside a *resilience.PanicError, back into itself, so
// that net/http still aborts the response quietly. Other panics go on
// unchanged.
func keepAbort() {
	p := recover()
	if p == nil {
		return
	}
	if pe, ok := p.(*resilience.PanicError); ok && pe.Value == http.ErrAbortHandler {
		panic(http.ErrAbortHandler)
	}
	panic(p)
}

// bufferedWriter holds a handler's response until the middleware knows
// whether to send it.
type bufferedWriter struct {
	// header is the handler's until it returns, the middleware's after;
	// a handler still running after its deadline keeps it for good.
	header http.Header

	mu     sync.Mutex // protects the fields below
	code   int
	buf    bytes.Buffer
	sealed bool // the middleware has answered: later writes fail
}

// Header returns the header map the handler fills.
func (w *bufferedWriter) Header() http.Header { return w.header }

// WriteHeader records the status. Informational (1xx) statuses are
// dropped: they cannot go out ahead of a response held back.
func (w *bufferedWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sealed || w.code != 0 || (code >= 100 && code < 200) {
		return
	}
	w.code = code
}

// Write holds p, or fails with http.ErrHandlerTimeout once the middleware
// has answered.
func (w *bufferedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sealed {
		return 0, http.ErrHandlerTimeout
	}
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.buf.Write(p)
}

// seal stops further writes and reports keep, under the lock that
// writes take, so that no write lands after the decision.
func (w *bufferedWriter) seal(keep bool) bool {
	w.mu.Lock()
	w.sealed = true
	w.mu.Unlock()
	return keep
}

// writeTo sends the held response. The handler has returned.
func (w *bufferedWriter) writeTo(dst http.ResponseWriter) {
	h := dst.Header()
	for k, v := range w.header {
		h[k] = v
	}
	code := w.code
	if code == 0 {
		code = http.StatusOK
	}
	dst.WriteHeader(code)
	_, _ = dst.Write(w.buf.Bytes())
}
