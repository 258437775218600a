package httpx

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// statusSet is a set of status codes below 640, as a bit set: the
// classifier asks it on every response, so it must cost a shift and a mask.
type statusSet [10]uint64

func (s *statusSet) add(code int) { s[code/64] |= 1 << (code % 64) }

func (s *statusSet) has(code int) bool {
	return code >= 0 && code < 640 && s[code/64]&(1<<(code%64)) != 0
}

// fill adds every valid status f accepts.
func (s *statusSet) fill(f func(int) bool) {
	for c := 100; c <= 599; c++ {
		if f(c) {
			s.add(c)
		}
	}
}

func validStatus(code int) bool { return code >= 100 && code <= 599 }

// defaultFailureStatus is every 5xx but those no retry can fix.
func defaultFailureStatus(code int) bool {
	return code >= 500 && code <= 599 && code != http.StatusNotImplemented &&
		code != http.StatusHTTPVersionNotSupported
}

// alwaysFailureStatus is a server saying "not now": too many requests,
// or unavailable.
func alwaysFailureStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable
}

// SafeToRepeat is the default test of [TransportConfig].Repeatable: a
// request may be sent again when its method is idempotent (GET, HEAD,
// OPTIONS, TRACE, PUT, DELETE, as RFC 9110 defines them) or when it
// carries an Idempotency-Key or X-Idempotency-Key header, by which the
// server promises to apply it once however often it arrives.
func SafeToRepeat(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete, "":
		return true // "" is GET to net/http
	}
	return r.Header.Get("Idempotency-Key") != "" || r.Header.Get("X-Idempotency-Key") != ""
}

// rewindable reports whether r's body can be sent again: it has none, or
// GetBody makes a fresh copy.
func rewindable(r *http.Request) bool {
	return r.Body == nil || r.Body == http.NoBody || r.GetBody != nil
}

// StatusError is how the transport's policies see a response judged a
// failure: its status and, when the server sent one, its Retry-After
// (capped at [TransportConfig].MaxRetryAfter). The breaker lengthens its
// open wait to RetryAfter and the retry waits at least that long.
//
// The caller of RoundTrip never gets a StatusError: it gets the response,
// as net/http would give it. Listeners do, as the Err of retry and
// outcome events. It unwraps to the [*resilience.Judged] failure that the
// pipeline's classifier made of the response. The transport makes it and
// changes it no more; a StatusError made by hand unwraps to nothing.
type StatusError struct {
	// StatusCode is the response's status, such as 503.
	StatusCode int
	// Wait is the server's Retry-After, capped; zero when it sent none.
	Wait   time.Duration
	judged *resilience.Judged
}

// Error reads like "httpx: 503 Service Unavailable (retry after 2s)".
func (e *StatusError) Error() string {
	s := "httpx: " + strconv.Itoa(e.StatusCode)
	if text := http.StatusText(e.StatusCode); text != "" {
		s += " " + text
	}
	if e.Wait > 0 {
		s += " (retry after " + e.Wait.String() + ")"
	}
	return s
}

// RetryAfter returns Wait, for [resilience.RetryAfter].
func (e *StatusError) RetryAfter() time.Duration { return e.Wait }

// Unwrap returns the classifier's verdict.
func (e *StatusError) Unwrap() error {
	if e.judged == nil {
		return nil // not a typed nil: errors.Is would call its methods
	}
	return e.judged
}

// classifier judges attempts for the pipeline: a response whose status is
// in the failure set is a failure, any other response an answer; errors
// are left to [resilience.DefaultOutcome] (a failure, but the caller's own
// cancellation is ignored).
func (t *Transport) classify(_ context.Context, resp *http.Response, err error) resilience.Outcome {
	if err != nil || resp == nil {
		return resilience.Unclassified
	}
	if t.failures.has(resp.StatusCode) {
		return resilience.Failure
	}
	return resilience.Success
}

// statusGuard sits next to the call, inside the breaker: it turns the
// classifier's bare verdict on a failed response into a *StatusError
// carrying the status and the Retry-After, so that the breaker and the
// retry see the server's hint.
type statusGuard struct{ t *Transport }

func (g statusGuard) Guard(ctx context.Context, next resilience.Next) error {
	err := next.Run(ctx)
	j, ok := err.(*resilience.Judged)
	if !ok || j.Err != nil || j.Outcome != resilience.Failure {
		return err
	}
	resp, _ := resilience.Result[*http.Response](next)
	if resp == nil {
		return err
	}
	return &StatusError{StatusCode: resp.StatusCode, Wait: retryAfter(resp, g.t.now(), g.t.maxRetryAfter), judged: j}
}

// discardPrevious sits just inside the retry. Before each retry it drains
// and closes the response of the attempt before, which nobody will read,
// so that its connection goes back to the pool for the retry to use.
type discardPrevious struct{}

func (discardPrevious) Guard(ctx context.Context, next resilience.Next) error {
	if prev, _ := resilience.Result[*http.Response](next); prev != nil {
		_ = resilience.SetResult[*http.Response](next, nil)
		drain(prev)
	}
	if c, ok := ctx.(*ownCtx); ok && c.ex != nil && c.ex.hedged {
		c.ex.newRound() // the hedger inside starts a call per attempt
	}
	return next.Run(ctx)
}

// retryIf retries failures only: not answers, not the caller's
// cancellation, and not rejections by the transport's own breaker,
// limiter or bulkhead (all Ignored by DefaultOutcome), which come back to
// the caller at once with their Retry-After rather than holding it while
// the breaker is open.
func retryIf(ctx context.Context, err error) bool {
	return resilience.DefaultOutcome(ctx, err) == resilience.Failure
}
