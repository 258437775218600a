package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/riprap-go/riprap/payments"
)

// DefaultMaxBodyBytes bounds a request body when HandlerConfig.MaxBodyBytes
// is zero: ample for any request of this API.
const DefaultMaxBodyBytes = 64 << 10

// HandlerConfig tunes a handler. The zero value is ready to use.
type HandlerConfig struct {
	// MaxBodyBytes bounds a request body; a longer one is answered 413.
	// Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

func (c *HandlerConfig) normalize() error {
	if c.MaxBodyBytes < 0 {
		return fmt.Errorf("httpapi: MaxBodyBytes must be >= 0, got %d", c.MaxBodyBytes)
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
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
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooLarge):
		return &httpError{http.StatusRequestEntityTooLarge, ErrorBody{Code: CodeTooLarge,
			Message: fmt.Sprintf("body larger than %d bytes", max)}}
	case errors.Is(err, payments.ErrUnknownCurrency):
		return &httpError{http.StatusBadRequest, ErrorBody{Code: CodeCurrency, Message: err.Error()}}
	}
	return &httpError{http.StatusBadRequest, ErrorBody{Code: CodeMalformed, Message: "malformed JSON: " + clip(err.Error())}}
}

// httpError is an error response about to be written.
type httpError struct {
	status int
	body   ErrorBody
}

// toHTTPError maps a service error to its response.
func toHTTPError(ctx context.Context, err error) *httpError {
	var (
		ve *payments.ValidationError
		de *payments.DeclineError
	)
	switch {
	case errors.As(err, &ve):
		return &httpError{http.StatusBadRequest, ErrorBody{Code: CodeInvalid, Message: ve.Error(), Problems: ve.Problems}}
	case errors.As(err, &de):
		return &httpError{http.StatusUnprocessableEntity, ErrorBody{Code: CodeDeclined, Message: de.Error(), Reason: de.Reason}}
	case errors.Is(err, payments.ErrIdempotencyConflict):
		return &httpError{http.StatusConflict, ErrorBody{Code: CodeConflict, Message: err.Error()}}
	case errors.Is(err, payments.ErrNotFound):
		return &httpError{http.StatusNotFound, ErrorBody{Code: CodeNotFound, Message: err.Error()}}
	case errors.Is(err, payments.ErrNoRate):
		return &httpError{http.StatusUnprocessableEntity, ErrorBody{Code: CodeNoRate, Message: err.Error()}}
	case errors.Is(err, payments.ErrUnknownCurrency):
		return &httpError{http.StatusBadRequest, ErrorBody{Code: CodeCurrency, Message: err.Error()}}
	case ctx.Err() != nil && err == ctx.Err():
		// Only the service's own "gave up before doing anything" answer —
		// its context's error, unwrapped — may become 503, which by this
		// API's contract means "not processed". Any other error after a
		// cancellation may follow a commit: it is a 500, outcome unknown.
		return &httpError{http.StatusServiceUnavailable, ErrorBody{Code: CodeUnavailable, Message: "request cancelled"}}
	}
	return &httpError{http.StatusInternalServerError, ErrorBody{Code: CodeInternal, Message: "internal error"}}
}

func writeError(w http.ResponseWriter, e *httpError) { writeJSON(w, e.status, e.body) }

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
