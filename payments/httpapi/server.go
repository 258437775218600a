package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/resilience"
)

// Default body limits of [HandlerConfig].
const (
	// DefaultMaxBodyBytes bounds a request body when
	// HandlerConfig.MaxBodyBytes is zero: ample for any single request of
	// this API.
	DefaultMaxBodyBytes = 64 << 10
	// DefaultMaxBatchBodyBytes bounds the body of a log batch when
	// HandlerConfig.MaxBatchBodyBytes is zero: payments.MaxLogBatch entries
	// of up to 2 KiB each, several times what an entry takes.
	DefaultMaxBatchBodyBytes = payments.MaxLogBatch * (2 << 10)
)

// HandlerConfig tunes a handler. The zero value is ready to use.
type HandlerConfig struct {
	// MaxBodyBytes bounds a request body; a longer one is answered 413.
	// Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxBatchBodyBytes bounds the body of a POST to [PathEntriesBatch];
	// a longer one is answered 413. Zero means DefaultMaxBatchBodyBytes.
	MaxBatchBodyBytes int64
}

// normalize applies the defaults; a refusal is a *resilience.ConfigError
// named after the handler (who).
func (c *HandlerConfig) normalize(who string) error {
	for _, f := range []struct {
		name string
		v    *int64
		def  int64
	}{{"MaxBodyBytes", &c.MaxBodyBytes, DefaultMaxBodyBytes}, {"MaxBatchBodyBytes", &c.MaxBatchBodyBytes, DefaultMaxBatchBodyBytes}} {
		if *f.v < 0 {
			return &resilience.ConfigError{Component: "httpapi", Name: who, Field: f.name, Rule: "must not be negative", Value: *f.v}
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	return nil
}

// decodeBody reads exactly one JSON value into v: bounded, no unknown
// fields, nothing after it. The error is already shaped as a response.
func decodeBody(w http.ResponseWriter, r *http.Request, max int64, v any) *httpError {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, max))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.Decode(&struct{}{}) != io.EOF {
			err = errors.New("trailing data after the JSON value")
		}
	}
	return decodeError(err, max)
}

// decodeError shapes an error reading a body of at most max bytes as a
// response; nil for nil.
func decodeError(err error, max int64) *httpError {
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooLarge):
		return &httpError{status: http.StatusRequestEntityTooLarge, body: ErrorBody{Code: CodeTooLarge,
			Message: fmt.Sprintf("body larger than %d bytes", max)}}
	case errors.Is(err, payments.ErrUnknownCurrency):
		return &httpError{status: http.StatusBadRequest, body: ErrorBody{Code: CodeCurrency, Message: clip(err.Error())}}
	}
	return &httpError{status: http.StatusBadRequest, body: ErrorBody{Code: CodeMalformed, Message: "malformed JSON: " + clip(err.Error())}}
}

// httpError is an error response about to be written.
type httpError struct {
	status     int
	body       ErrorBody
	retryAfter time.Duration // sent as Retry-After with a 429 or 503
}

// toHTTPError maps a service error to its response; nil for nil.
func toHTTPError(ctx context.Context, err error) *httpError {
	if err == nil {
		return nil
	}
	var (
		ve *payments.ValidationError
		de *payments.DeclineError
	)
	switch {
	case errors.As(err, &ve):
		return &httpError{status: http.StatusBadRequest, body: ErrorBody{Code: CodeInvalid, Message: ve.Error(), Problems: ve.Problems}}
	case errors.As(err, &de):
		return &httpError{status: http.StatusUnprocessableEntity, body: ErrorBody{Code: CodeDeclined, Message: de.Error(), Reason: de.Reason}}
	case errors.Is(err, payments.ErrIdempotencyConflict):
		return &httpError{status: http.StatusConflict, body: ErrorBody{Code: CodeConflict, Message: err.Error()}}
	case errors.Is(err, payments.ErrNotFound):
		return &httpError{status: http.StatusNotFound, body: ErrorBody{Code: CodeNotFound, Message: err.Error()}}
	case errors.Is(err, payments.ErrNoRate):
		return &httpError{status: http.StatusUnprocessableEntity, body: ErrorBody{Code: CodeNoRate, Message: err.Error()}}
	case errors.Is(err, payments.ErrUnknownCurrency):
		return &httpError{status: http.StatusBadRequest, body: ErrorBody{Code: CodeCurrency, Message: err.Error()}}
	case errors.Is(err, payments.ErrBatchTooLarge):
		return &httpError{status: http.StatusRequestEntityTooLarge, body: ErrorBody{Code: CodeBatchTooLarge, Message: err.Error()}}
	case errors.Is(err, ErrOverloaded):
		// The service's contract for ErrOverloaded is that of a 503: refused
		// before doing anything, safe to send again.
		after, _ := resilience.RetryAfter(err)
		return &httpError{status: http.StatusServiceUnavailable, body: ErrorBody{Code: CodeOverloaded, Message: clip(err.Error())},
			retryAfter: after}
	case ctx.Err() != nil && err == ctx.Err():
		// Only the service's own "gave up before doing anything" answer —
		// its context's error, unwrapped — may become 503, which by this
		// API's contract means "not processed". Any other error after a
		// cancellation may follow a commit: it is a 500, outcome unknown.
		return &httpError{status: http.StatusServiceUnavailable, body: ErrorBody{Code: CodeUnavailable, Message: "request cancelled"}}
	}
	return &httpError{status: http.StatusInternalServerError, body: ErrorBody{Code: CodeInternal, Message: "internal error"}}
}

func writeError(w http.ResponseWriter, e *httpError) {
	if e.retryAfter > 0 && (e.status == http.StatusServiceUnavailable || e.status == http.StatusTooManyRequests) {
		w.Header().Set("Retry-After", strconv.FormatInt(retryAfterSeconds(e.retryAfter), 10))
	}
	writeJSON(w, e.status, e.body)
}

// retryAfterSeconds rounds d up to whole seconds: never invite an early
// retry.
func retryAfterSeconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }

// WriteError writes an ErrorBody with the given status and code; fault
// injectors use it so that their errors read like the handlers' own.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, ErrorBody{Code: code, Message: message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"code":"internal","message":"cannot encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

func health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
