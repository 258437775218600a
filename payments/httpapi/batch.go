package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/riprap-go/riprap/payments"
)

// batchHandler serves POST PathEntriesBatch. The request is refused whole
// only when it cannot be read as a batch (malformed JSON, too large, too
// many entries) or when the log fails the batch whole; an entry that is
// malformed or invalid gets its own 400 result, and the others are
// appended, so that one bad entry never holds up a batch.
func batchHandler(log payments.Log, max int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		entries, results, he := decodeBatch(w, r, max)
		if he != nil {
			writeError(w, he)
			return
		}
		send := make([]payments.Entry, 0, len(entries))
		index := make([]int, 0, len(entries)) // index[k]: the result of send[k]
		for i := range entries {
			if results[i].Status == 0 {
				send, index = append(send, entries[i]), append(index, i)
			}
		}
		if len(send) > 0 {
			errs, err := log.AppendBatch(r.Context(), send)
			if err == nil && len(errs) != len(send) {
				err = fmt.Errorf("httpapi: the log returned %d results for %d entries", len(errs), len(send))
			}
			if err != nil {
				writeError(w, toHTTPError(r.Context(), err))
				return
			}
			for k, err := range errs {
				results[index[k]] = resultFor(toHTTPError(r.Context(), err))
			}
		}
		writeJSON(w, http.StatusOK, BatchResponse{Results: results})
	}
}

// resultFor turns an entry's error response into its result; nil is a 204.
func resultFor(he *httpError) BatchResult {
	if he == nil {
		return BatchResult{Status: http.StatusNoContent}
	}
	res := BatchResult{Status: he.status, Error: &he.body}
	if he.retryAfter > 0 {
		res.RetryAfter = retryAfterSeconds(he.retryAfter)
	}
	return res
}

// decodeBatch reads a BatchRequest of at most max bytes and
// payments.MaxLogBatch entries. It returns the entries and, for each, a
// result already set (Status non-zero) when the entry cannot be appended:
// malformed or invalid. Only a body that cannot be read as a batch is
// refused whole, with he.
func decodeBatch(w http.ResponseWriter, r *http.Request, max int64) (entries []payments.Entry, results []BatchResult, he *httpError) {
	raws, err := readBatch(json.NewDecoder(http.MaxBytesReader(w, r.Body, max)))
	if errors.Is(err, payments.ErrBatchTooLarge) {
		return nil, nil, &httpError{status: http.StatusRequestEntityTooLarge, body: ErrorBody{Code: CodeBatchTooLarge,
			Message: fmt.Sprintf("more than %d entries", payments.MaxLogBatch)}}
	}
	if he := decodeError(err, max); he != nil {
		return nil, nil, he
	}
	entries = make([]payments.Entry, len(raws))
	results = make([]BatchResult, len(raws))
	for i, raw := range raws {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&entries[i]); err != nil {
			results[i] = resultFor(decodeError(err, max))
		} else if err := entries[i].Validate(); err != nil {
			results[i] = resultFor(toHTTPError(r.Context(), err))
		}
	}
	return entries, results, nil
}

// readBatch reads {"entries": [...]} and nothing else, keeping each entry
// as raw JSON so that a malformed entry fails alone. It stops at the first
// entry past payments.MaxLogBatch, before reading it.
func readBatch(dec *json.Decoder) ([]json.RawMessage, error) {
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	var raws []json.RawMessage
	seen := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if key != "entries" || seen {
			return nil, fmt.Errorf("unexpected field %v: want one field, entries", key)
		}
		seen = true
		if err := expectDelim(dec, '['); err != nil {
			return nil, err
		}
		for dec.More() {
			if len(raws) == payments.MaxLogBatch {
				return nil, payments.ErrBatchTooLarge
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, err
			}
			raws = append(raws, raw)
		}
		if err := expectDelim(dec, ']'); err != nil {
			return nil, err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	if !seen {
		return nil, errors.New("missing field entries")
	}
	switch _, err := dec.Token(); err {
	case io.EOF:
	case nil:
		return nil, errors.New("trailing data after the JSON value")
	default:
		return nil, err
	}
	return raws, nil
}

// expectDelim reads one token and requires it to be the delimiter d.
func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return fmt.Errorf("want %v, got %v", d, tok)
	}
	return nil
}
