package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
)

// Paths served by [Gateway.Handler].
const (
	// PathPayments: POST a payments.PaymentRequest as JSON to pay; GET
	// PathPayments/{key} for the payment's current result.
	PathPayments = "/v1/payments"
	// PathStatus: GET the [Status] as JSON.
	PathStatus = "/v1/status"
	// PathHealth: GET answers 200 while the process serves.
	PathHealth = "/healthz"
)

// MaxRequestBytes bounds the body of a payment request: ample for the
// largest valid one, whose free-text fields are bounded by
// payments.MaxTextLen.
const MaxRequestBytes = 16 << 10

// Handler serves the gateway over HTTP, so that it can run as a process of
// its own:
//
//   - POST [PathPayments] with a payments.PaymentRequest as JSON pays and
//     answers the [Result] as JSON: 200 succeeded, 202 pending, 422
//     declined (400 for an invalid request, 409 for a key reused for
//     another payment), 503 rejected with a Retry-After header when the
//     result has one. A body that is not one JSON request (unknown fields,
//     trailing data) is answered 400, one over [MaxRequestBytes] 413, both
//     with an httpapi.ErrorBody; nothing is attempted then.
//   - GET PathPayments/{key} answers the payment's current Result (200), or
//     404 for a key the store does not hold.
//   - GET [PathStatus] answers the [Status]; GET [PathHealth] answers 200.
//
// Other methods on these paths are answered 405 with an Allow header, other
// paths 404. The request's context is the payment's: a client that goes
// away before the bank is called leaves the payment rejected, and once the
// bank is called the outcome is recorded whatever the client does.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathPayments, g.servePay)
	mux.HandleFunc("GET "+PathPayments+"/{key}", g.serveLookup)
	mux.Handle("GET "+PathStatus, g.StatusHandler())
	mux.HandleFunc("GET "+PathHealth, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return mux
}

func (g *Gateway) servePay(w http.ResponseWriter, r *http.Request) {
	var req payments.PaymentRequest
	if status, err := decodeRequest(w, r, &req); err != nil {
		code := httpapi.CodeMalformed
		if status == http.StatusRequestEntityTooLarge {
			code = httpapi.CodeTooLarge
		}
		httpapi.WriteError(w, status, code, err.Error())
		return
	}
	res := g.Pay(r.Context(), req)
	if res.State == Rejected && res.RetryAfter > 0 {
		secs := int64((res.RetryAfter + 999_999_999) / 1_000_000_000) // rounded up: never invite an early retry
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	writeJSON(w, statusFor(res), res)
}

// decodeRequest reads exactly one JSON request of at most MaxRequestBytes,
// with no unknown fields, into v.
func decodeRequest(w http.ResponseWriter, r *http.Request, v any) (int, error) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("trailing data after the JSON value")
	}
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return http.StatusOK, nil
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, fmt.Errorf("body larger than %d bytes", MaxRequestBytes)
	}
	return http.StatusBadRequest, fmt.Errorf("malformed payment request: %w", err)
}

// statusFor is the HTTP status of a payment's result.
func statusFor(r Result) int {
	switch r.State {
	case Succeeded:
		return http.StatusOK
	case Pending:
		return http.StatusAccepted
	case Rejected:
		return http.StatusServiceUnavailable
	}
	switch {
	case errors.Is(r.Err, payments.ErrInvalidRequest):
		return http.StatusBadRequest
	case errors.Is(r.Err, payments.ErrIdempotencyConflict):
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}

func (g *Gateway) serveLookup(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if !payments.ValidIdempotencyKey(key) {
		httpapi.WriteError(w, http.StatusNotFound, httpapi.CodeNotFound, "no payment has that key")
		return
	}
	res, err := g.Lookup(r.Context(), key)
	switch {
	case errors.Is(err, ErrUnknownPayment):
		httpapi.WriteError(w, http.StatusNotFound, httpapi.CodeNotFound, err.Error())
	case err != nil:
		httpapi.WriteError(w, http.StatusServiceUnavailable, httpapi.CodeUnavailable, "the store cannot be read: "+err.Error())
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"code":"internal","message":"cannot encode the response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}
