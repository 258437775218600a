package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/riprap-go/riprap/payments"
)

// LogClient is a payments.Log over HTTP. It is safe for concurrent use;
// build it with [NewLogClient].
type LogClient struct{ c client }

// NewLogClient returns a client of the transaction log served at baseURL.
func NewLogClient(baseURL string, cfg ClientConfig) (*LogClient, error) {
	c, err := newClient("log", baseURL, cfg)
	if err != nil {
		return nil, err
	}
	return &LogClient{c: c}, nil
}

// Append posts e; appending the same entry twice is a success, a different
// entry under the same payment ID matches payments.ErrIdempotencyConflict.
func (l *LogClient) Append(ctx context.Context, e payments.Entry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	return l.c.doKeyed(ctx, "log.Append", http.MethodPost, PathEntries, e.PaymentID, e, nil)
}

const opAppendBatch = "log.AppendBatch"

// AppendBatch posts the entries to [PathEntriesBatch] in one request; see
// payments.Log for the contract. An invalid entry gets its
// *payments.ValidationError without being sent. Every other entry's result
// is what Append would have returned for it alone: nil, or an [*Error]
// matching its class and domain error (payments.ErrIdempotencyConflict
// with [ErrClientError]; [ErrOverloaded] for an entry the log could not
// take now, safe to send again). A batch longer than payments.MaxLogBatch
// is refused whole before anything is sent; a request that fails whole
// returns its [*Error] as err and no results.
func (l *LogClient) AppendBatch(ctx context.Context, entries []payments.Entry) ([]error, error) {
	if err := payments.CheckBatch(entries); err != nil {
		return nil, err
	}
	results := make([]error, len(entries))
	send := make([]payments.Entry, 0, len(entries))
	index := make([]int, 0, len(entries)) // index[k]: where send[k] is in entries
	for i, e := range entries {
		if err := e.Validate(); err != nil {
			results[i] = err
			continue
		}
		send, index = append(send, e), append(index, i)
	}
	if len(send) == 0 {
		return results, nil
	}
	var resp BatchResponse
	if err := l.c.do(ctx, opAppendBatch, http.MethodPost, PathEntriesBatch, BatchRequest{Entries: send}, &resp); err != nil {
		return nil, err
	}
	if len(resp.Results) != len(send) {
		return nil, malformedBatch(fmt.Errorf("%d results for %d entries", len(resp.Results), len(send)))
	}
	for k, r := range resp.Results {
		err, ok := resultError(r)
		if !ok {
			return nil, malformedBatch(fmt.Errorf("result %d has status %d", k, r.Status))
		}
		results[index[k]] = err
	}
	return results, nil
}

func malformedBatch(cause error) error {
	return &Error{Op: opAppendBatch, StatusCode: http.StatusOK, class: ErrMalformedResponse, Cause: cause}
}

// resultError turns one entry's result into its error; ok is false for a
// status no answer can have.
func resultError(r BatchResult) (err error, ok bool) {
	switch {
	case r.Status >= 200 && r.Status < 300:
		return nil, true
	case r.Status < 400 || r.Status > 599:
		return nil, false
	}
	var eb ErrorBody
	if r.Error != nil {
		eb = *r.Error
	}
	var after time.Duration
	if r.RetryAfter > 0 && r.RetryAfter <= int64(maxRetryAfter/time.Second) {
		after = time.Duration(r.RetryAfter) * time.Second
	}
	return newStatusError(opAppendBatch, r.Status, eb, after), true
}

// Health returns nil when the log answers its health check.
func (l *LogClient) Health(ctx context.Context) error {
	return l.c.do(ctx, "log.Health", http.MethodGet, PathHealth, nil, nil)
}

var _ payments.Log = (*LogClient)(nil)
