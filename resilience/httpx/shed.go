package httpx

import (
	"context"
	"net/http"

	"github.com/riprap-go/riprap/resilience"
)

// ShedConfig configures [Shed]. The zero value is ready to use.
type ShedConfig struct {
	// Refused writes the body of a refusal after the middleware has set the
	// status and headers; nil writes "overloaded\n". It must not call
	// WriteHeader.
	Refused func(w http.ResponseWriter, r *http.Request)
	// Failure says whether a response status counts as a failure for a
	// guard that learns from outcomes (an adaptive limit); nil means every
	// 5xx status. Other statuses are successes.
	Failure func(status int) bool
}

// Shed returns server middleware that runs each request inside g, usually
// a *bulkhead.Bulkhead or a *bulkhead.Adaptive, so that a server under
// more load than it can serve refuses the excess at once instead of slowing
// down for everybody. When g refuses a request (a [resilience.Rejection])
// the handler is not called and the client gets 503 Service Unavailable
// with Retry-After in whole seconds: the rejection's own RetryAfter, at
// least 1.
//
// The handler's response status is its outcome: a status that
// cfg.Failure calls a failure reaches g as one, so an adaptive limit
// shrinks while the handler answers 5xx. A panic in the handler counts as a
// failure too, then goes on to net/http.
//
// Any other guard works as well (a limiter, a breaker, a chain of them).
// A request whose context ended before g let it in gets 503 without
// Retry-After; a nil g, or a guard failing for another reason before the
// handler ran, gives 500 Internal Server Error.
func Shed(g resilience.Guard, cfg ShedConfig) func(http.Handler) http.Handler {
	if cfg.Refused == nil {
		cfg.Refused = func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("overloaded\n")) }
	}
	if cfg.Failure == nil {
		cfg.Failure = func(status int) bool { return status >= 500 }
	}
	chain := resilience.NewChain(g)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &statusWriter{ResponseWriter: w}
			ran := false
			err := chain.Run(r.Context(), func(ctx context.Context) error {
				ran = true
				if ctx != r.Context() { // a guard derived it (a timeout): the handler must see it
					r = r.WithContext(ctx)
				}
				next.ServeHTTP(sw, r)
				if cfg.Failure(sw.status()) {
					return errFailedStatus
				}
				return nil
			})
			if !ran {
				refuseShed(w, r, err, cfg.Refused)
			}
		})
	}
}

// errFailedStatus carries a failed response to the guards as a judged
// failure; nobody sees it but them.
var errFailedStatus = &resilience.Judged{Outcome: resilience.Failure}

// refuseShed answers a request that never reached the handler.
func refuseShed(w http.ResponseWriter, r *http.Request, err error, body func(http.ResponseWriter, *http.Request)) {
	if rej, ok := resilience.AsRejection(err); ok {
		refuse(w, r, http.StatusServiceUnavailable, rej.RetryAfter, body)
		return
	}
	if r.Context().Err() != nil { // the client went away; the answer is for the logs
		http.Error(w, "request ended before it was served", http.StatusServiceUnavailable)
		return
	}
	http.Error(w, "internal server error", http.StatusInternalServerError)
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 { // 1xx responses come before the real one
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush passes a streaming handler's flushes on.
func (w *statusWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush() // http.Flusher has no error to report
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// status is the status sent, 200 when the handler wrote nothing.
func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}
