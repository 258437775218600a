package httpapi

import (
	"errors"
	"net/http"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/resilience"
)

// NewBankHandler serves b: POST [PathTransfers] with a
// payments.TransferRequest, GET PathTransfers/{key} for its status, and GET
// [PathHealth]. The handler is safe for concurrent use when b is.
func NewBankHandler(b payments.Bank, cfg HandlerConfig) (http.Handler, error) {
	const who = "bank handler"
	if b == nil {
		return nil, nilService(who, "Bank")
	}
	if err := cfg.normalize(who); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathTransfers, func(w http.ResponseWriter, r *http.Request) {
		var req payments.TransferRequest
		if e := decodeBody(w, r, cfg.MaxBodyBytes, &req); e != nil {
			writeError(w, e)
			return
		}
		if err := req.Validate(); err != nil {
			writeError(w, toHTTPError(r.Context(), err))
			return
		}
		rcpt, err := b.Transfer(r.Context(), req)
		if err != nil {
			writeError(w, toHTTPError(r.Context(), err))
			return
		}
		writeJSON(w, http.StatusOK, rcpt)
	})
	mux.HandleFunc("GET "+PathTransfers+"/{key}", func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		if !payments.ValidIdempotencyKey(key) {
			writeError(w, &httpError{status: http.StatusBadRequest, body: ErrorBody{Code: CodeInvalid, Message: "malformed idempotency key",
				Problems: []payments.FieldError{{Field: "idempotency_key", Problem: payments.KeyRule}}}})
			return
		}
		st, err := b.Status(r.Context(), key)
		if err != nil {
			writeError(w, toHTTPError(r.Context(), err))
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("GET "+PathHealth, health)
	return mux, nil
}

// NewFXHandler serves fx: GET [PathQuotes]?from=USD&to=EUR and GET
// [PathHealth]. It is safe for concurrent use when fx is.
func NewFXHandler(fx payments.FX, cfg HandlerConfig) (http.Handler, error) {
	const who = "fx handler"
	if fx == nil {
		return nil, nilService(who, "FX")
	}
	if err := cfg.normalize(who); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathQuotes, func(w http.ResponseWriter, r *http.Request) {
		from, err1 := payments.LookupCurrency(r.URL.Query().Get("from"))
		to, err2 := payments.LookupCurrency(r.URL.Query().Get("to"))
		if err := errors.Join(err1, err2); err != nil {
			writeError(w, toHTTPError(r.Context(), err))
			return
		}
		q, err := fx.Quote(r.Context(), from, to)
		if err != nil {
			writeError(w, toHTTPError(r.Context(), err))
			return
		}
		writeJSON(w, http.StatusOK, q)
	})
	mux.HandleFunc("GET "+PathHealth, health)
	return mux, nil
}

// NewLogHandler serves log: POST [PathEntries] with a payments.Entry
// (answered 204 whether stored now or before), POST [PathEntriesBatch]
// with a [BatchRequest] (see [BatchResponse]) and GET [PathHealth]. It is
// safe for concurrent use when log is.
func NewLogHandler(log payments.Log, cfg HandlerConfig) (http.Handler, error) {
	const who = "log handler"
	if log == nil {
		return nil, nilService(who, "Log")
	}
	if err := cfg.normalize(who); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathEntries, func(w http.ResponseWriter, r *http.Request) {
		var e payments.Entry
		if he := decodeBody(w, r, cfg.MaxBodyBytes, &e); he != nil {
			writeError(w, he)
			return
		}
		if err := e.Validate(); err != nil {
			writeError(w, toHTTPError(r.Context(), err))
			return
		}
		if err := log.Append(r.Context(), e); err != nil {
			writeError(w, toHTTPError(r.Context(), err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST "+PathEntriesBatch, batchHandler(log, cfg.MaxBatchBodyBytes))
	mux.HandleFunc("GET "+PathHealth, health)
	return mux, nil
}

// nilService is the error of a handler constructor given no service.
func nilService(who, field string) error {
	return &resilience.ConfigError{Component: "httpapi", Name: who, Field: field, Rule: "must not be nil", Value: nil}
}
