package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/riprap-go/riprap/resilience/httpx"
)

// The classes of client errors; see the package documentation.
var (
	// ErrOverloaded: 429 or 503, the request was refused unprocessed.
	ErrOverloaded = errors.New("httpapi: server overloaded")
	// ErrServerFailure: another 5xx (or 408); effect unknown.
	ErrServerFailure = errors.New("httpapi: server failure")
	// ErrTransport: the request or response did not make it; effect unknown.
	ErrTransport = errors.New("httpapi: transport failure")
	// ErrMalformedResponse: a 2xx whose body is not what the API promises.
	ErrMalformedResponse = errors.New("httpapi: malformed response")
	// ErrClientError: the service's own 4xx answer (other than 408 and
	// 429); retrying cannot help.
	ErrClientError = errors.New("httpapi: request refused")
	// ErrInfrastructure: a 4xx that did not come from the service — an
	// auth proxy's 401 or 403, a load balancer's 404 for a route it does
	// not know — so it had no effect, but it is a failure, not an answer;
	// see the package documentation.
	ErrInfrastructure = errors.New("httpapi: refused by infrastructure in front of the service")
)

var errQuoteMismatch = errors.New("quote is not for the currencies asked, or has no rate")

// Error is the error every client method returns. It matches its class
// sentinel and its Cause with errors.Is and errors.As.
//
// An Error is immutable once returned and safe to share between goroutines.
type Error struct {
	Op         string        // the client method: "bank.Transfer"
	StatusCode int           // HTTP status; 0 when no response arrived
	Code       string        // machine code from the error body ("declined"), if any
	Message    string        // human text from the error body, if any
	After      time.Duration // the Retry-After header, when sent with 429/503
	Cause      error         // the domain or transport error beneath, may be nil

	class error
}

// Error reads like "httpapi: bank.Transfer: 503: server overloaded: … (retry after 2s)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("httpapi: " + e.Op + ": ")
	if e.StatusCode != 0 {
		b.WriteString(strconv.Itoa(e.StatusCode) + " " + http.StatusText(e.StatusCode) + ": ")
	}
	b.WriteString(strings.TrimPrefix(e.class.Error(), "httpapi: "))
	switch {
	case e.Cause != nil:
		b.WriteString(": " + e.Cause.Error())
	case e.Message != "":
		b.WriteString(": " + e.Message)
	}
	if e.After > 0 {
		b.WriteString(" (retry after " + e.After.String() + ")")
	}
	return b.String()
}

// Unwrap returns the class sentinel and the cause.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.class}
	}
	return []error{e.class, e.Cause}
}

// Permanent reports whether retrying the same request cannot succeed: true
// for [ErrClientError] only. An [ErrInfrastructure] refusal is not
// permanent: expired credentials or a route missing during a deployment are
// fixed without changing the request.
func (e *Error) Permanent() bool { return e.class == ErrClientError }

// RetryAfter returns the server's Retry-After for 429 and 503, else 0.
func (e *Error) RetryAfter() time.Duration { return e.After }

// classify maps a non-2xx status to its class sentinel.
func classify(status int) error {
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return ErrOverloaded
	case status == http.StatusRequestTimeout || status >= 500:
		return ErrServerFailure
	case status >= 400:
		return ErrClientError
	}
	return ErrServerFailure // 1xx/3xx where a final answer was due
}

// maxRetryAfter is the longest Retry-After believed; a longer one, in
// either form, is treated as absent.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads a Retry-After value with httpx.ParseRetryAfter (delay
// seconds or an HTTP-date, relative to now); an absent, malformed, past
// or implausibly far (beyond maxRetryAfter) value is 0.
func retryAfter(v string, now time.Time) time.Duration {
	d, ok := httpx.ParseRetryAfter(v, now)
	if !ok || d > maxRetryAfter {
		return 0
	}
	return d
}
