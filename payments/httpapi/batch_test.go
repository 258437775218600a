package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/resilience"
)

func entry(id string) payments.Entry {
	return payments.Entry{PaymentID: id, TransferID: "tr_" + id, Payer: "acct_alice0001", Payee: "acct_bob000002",
		Amount: payments.MustParseMoney("10.00 USD"), At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// scriptedLog answers each entry of a batch with the error scripted for its
// payment ID; an entry with no script is stored.
type scriptedLog struct {
	payments.Log
	script  map[string]error
	batches atomic.Int32
}

func (l *scriptedLog) AppendBatch(_ context.Context, entries []payments.Entry) ([]error, error) {
	l.batches.Add(1)
	out := make([]error, len(entries))
	for i, e := range entries {
		out[i] = l.script[e.PaymentID]
	}
	return out, nil
}

// overloaded is a service error meaning "not now, try again in 2.5s".
type overloaded struct{}

func (overloaded) Error() string             { return "queue full" }
func (overloaded) Is(target error) bool      { return target == httpapi.ErrOverloaded }
func (overloaded) RetryAfter() time.Duration { return 2500 * time.Millisecond }

func logClient(t *testing.T, h http.Handler) *httpapi.LogClient {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := httpapi.NewLogClient(srv.URL, httpapi.ClientConfig{})
	require.NoError(t, err)
	return c
}

// TestAppendBatchMixedResults sends one batch over loopback whose entries
// meet every kind of per-entry answer, and checks that each result matches
// what Append would have returned for that entry alone.
func TestAppendBatchMixedResults(t *testing.T) {
	log := &scriptedLog{script: map[string]error{
		"conflict": fmt.Errorf("%w: logged with other content", payments.ErrIdempotencyConflict),
		"busy":     overloaded{},
		"broken":   errors.New("disk on fire"),
		"invalid":  &payments.ValidationError{Problems: []payments.FieldError{{Field: "amount", Problem: "too odd"}}},
	}}
	h, err := httpapi.NewLogHandler(log, httpapi.HandlerConfig{})
	require.NoError(t, err)
	c := logClient(t, h)

	results, err := c.AppendBatch(context.Background(), []payments.Entry{
		entry("stored"), entry("conflict"), {PaymentID: ""}, entry("busy"), entry("broken"), entry("invalid"), entry("also-stored"),
	})
	require.NoError(t, err)
	require.Len(t, results, 7)
	assert.NoError(t, results[0])
	assert.ErrorIs(t, results[1], payments.ErrIdempotencyConflict)
	assert.ErrorIs(t, results[1], httpapi.ErrClientError)
	assert.True(t, payments.IsPermanent(results[1]))
	assert.ErrorIs(t, results[2], payments.ErrInvalidRequest, "refused by the client, never sent")
	assert.ErrorIs(t, results[3], httpapi.ErrOverloaded)
	assert.False(t, payments.IsPermanent(results[3]))
	after, ok := resilience.RetryAfter(results[3])
	assert.True(t, ok)
	assert.Equal(t, 3*time.Second, after, "rounded up to whole seconds")
	assert.ErrorIs(t, results[4], httpapi.ErrServerFailure)
	assert.False(t, payments.IsPermanent(results[4]))
	var ve *payments.ValidationError
	require.ErrorAs(t, results[5], &ve)
	assert.Equal(t, []payments.FieldError{{Field: "amount", Problem: "too odd"}}, ve.Problems)
	assert.NoError(t, results[6])
	assert.Equal(t, int32(1), log.batches.Load(), "one request for the whole batch")
}

// TestAppendBatchAgainstTheSimulatedLog: idempotency by payment ID holds
// across batches and single appends, over real HTTP.
func TestAppendBatchAgainstTheSimulatedLog(t *testing.T) {
	l := sim.NewLog(sim.LogConfig{})
	h := sim.LogHandler(l, nil)
	c := logClient(t, h)
	ctx := context.Background()
	require.NoError(t, c.Append(ctx, entry("p1")))
	changed := entry("p2")
	changed.Amount = payments.MustParseMoney("99.00 USD")
	require.NoError(t, c.Append(ctx, changed))

	results, err := c.AppendBatch(ctx, []payments.Entry{entry("p1"), entry("p2"), entry("p3"), entry("p3")})
	require.NoError(t, err)
	assert.NoError(t, results[0], "already stored: a success")
	assert.ErrorIs(t, results[1], payments.ErrIdempotencyConflict)
	assert.NoError(t, results[2])
	assert.NoError(t, results[3], "the same entry twice in one batch is stored once")
	assert.Equal(t, sim.LogStats{Appends: 6, Stored: 3, Duplicates: 2, Conflicts: 1, Batches: 1}, l.Stats())

	results, err = c.AppendBatch(ctx, nil)
	assert.NoError(t, err)
	assert.Empty(t, results)
}

func TestAppendBatchFailsWhole(t *testing.T) {
	ctx := context.Background()
	t.Run("too many entries, refused before sending", func(t *testing.T) {
		calls := 0
		c := logClient(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls++ }))
		results, err := c.AppendBatch(ctx, make([]payments.Entry, payments.MaxLogBatch+1))
		assert.ErrorIs(t, err, payments.ErrBatchTooLarge)
		assert.True(t, payments.IsPermanent(err))
		assert.Nil(t, results)
		assert.Equal(t, 0, calls)
	})
	t.Run("the log fails the batch", func(t *testing.T) {
		l := sim.NewLog(sim.LogConfig{})
		require.NoError(t, l.SetFaults(sim.LogFaults{BatchErrorRate: sim.Always, RetryAfter: time.Second}))
		h := sim.LogHandler(l, nil)
		results, err := logClient(t, h).AppendBatch(ctx, []payments.Entry{entry("p1")})
		assert.ErrorIs(t, err, httpapi.ErrOverloaded)
		d, _ := resilience.RetryAfter(err)
		assert.Equal(t, time.Second, d)
		assert.Nil(t, results)
		assert.Empty(t, l.Entries())
	})
	t.Run("a proxy without the route", func(t *testing.T) {
		c := logClient(t, http.NotFoundHandler())
		_, err := c.AppendBatch(ctx, []payments.Entry{entry("p1")})
		assert.ErrorIs(t, err, httpapi.ErrInfrastructure)
		assert.False(t, payments.IsPermanent(err), "a missing route must not set the entries aside for good")
	})
	for name, body := range map[string]string{
		"fewer results":  `{"results":[]}`,
		"status 0":       `{"results":[{"status":0}]}`,
		"status 302":     `{"results":[{"status":302}]}`,
		"not JSON":       `<html>`,
		"trailing data":  `{"results":[{"status":204}]} {}`,
		"results absent": `{}`,
	} {
		t.Run("malformed answer: "+name, func(t *testing.T) {
			_, err := logClient(t, answer(200, body)).AppendBatch(ctx, []payments.Entry{entry("p1")})
			assert.ErrorIs(t, err, httpapi.ErrMalformedResponse)
		})
	}
}

func postBatch(t *testing.T, h http.Handler, body string) (*httptest.ResponseRecorder, httpapi.BatchResponse, httpapi.ErrorBody) {
	t.Helper()
	rec, eb := serve(t, h, "POST", httpapi.PathEntriesBatch, body)
	var br httpapi.BatchResponse
	if rec.Code == 200 {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &br))
	}
	return rec, br, eb
}

func entriesJSON(t *testing.T, n int) string {
	t.Helper()
	es := make([]payments.Entry, n)
	for i := range es {
		es[i] = entry(fmt.Sprintf("p%d", i))
	}
	data, err := json.Marshal(httpapi.BatchRequest{Entries: es})
	require.NoError(t, err)
	return string(data)
}

func TestBatchHandlerRefusesBadBatches(t *testing.T) {
	l := sim.NewLog(sim.LogConfig{})
	h, err := httpapi.NewLogHandler(l, httpapi.HandlerConfig{MaxBatchBodyBytes: 200 << 10})
	require.NoError(t, err)
	one := entriesJSON(t, 1)
	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"not json", `hello`, 400, httpapi.CodeMalformed},
		{"an array", `[]`, 400, httpapi.CodeMalformed},
		{"no entries field", `{}`, 400, httpapi.CodeMalformed},
		{"entries null", `{"entries":null}`, 400, httpapi.CodeMalformed},
		{"entries an object", `{"entries":{}}`, 400, httpapi.CodeMalformed},
		{"unknown field", `{"entries":[],"extra":1}`, 400, httpapi.CodeMalformed},
		{"entries twice", `{"entries":[],"entries":[]}`, 400, httpapi.CodeMalformed},
		{"trailing data", one + `{}`, 400, httpapi.CodeMalformed},
		{"truncated", one[:len(one)-3], 400, httpapi.CodeMalformed},
		{"too many entries", entriesJSON(t, payments.MaxLogBatch+1), 413, httpapi.CodeBatchTooLarge},
		{"body too large", `{"entries":["` + strings.Repeat("x", 300<<10) + `"]}`, 413, httpapi.CodeTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, _, eb := postBatch(t, h, c.body)
			assert.Equal(t, c.status, rec.Code)
			assert.Equal(t, c.code, eb.Code)
		})
	}
	assert.Equal(t, sim.LogStats{}, l.Stats(), "a batch refused whole stores nothing")

	rec, br, _ := postBatch(t, h, entriesJSON(t, payments.MaxLogBatch))
	require.Equal(t, 200, rec.Code, "a full batch fits the default body limit's share")
	assert.Len(t, br.Results, payments.MaxLogBatch)
	assert.Equal(t, payments.MaxLogBatch, l.Stats().Stored)
}

func TestBatchHandlerAnswersABadEntryAlone(t *testing.T) {
	l := sim.NewLog(sim.LogConfig{})
	h, err := httpapi.NewLogHandler(l, httpapi.HandlerConfig{})
	require.NoError(t, err)
	good, _ := json.Marshal(entry("good"))
	body := `{"entries":[` + string(good) + `,
		{"payment_id":"x","amount":"1.00 USD","surprise":1},
		{"payment_id":"y","amount":"1.00 XYZ"},
		{"payment_id":"z","amount":1.5},
		{"payment_id":"","amount":"1.00 USD"},
		"a string", null]}`
	rec, br, _ := postBatch(t, h, body)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.Len(t, br.Results, 7)
	assert.Equal(t, httpapi.BatchResult{Status: 204}, br.Results[0])
	for i, code := range []string{httpapi.CodeMalformed, httpapi.CodeCurrency, httpapi.CodeMalformed, httpapi.CodeInvalid,
		httpapi.CodeMalformed, httpapi.CodeInvalid} {
		r := br.Results[i+1]
		assert.Equal(t, 400, r.Status, "entry %d", i+1)
		if assert.NotNil(t, r.Error, "entry %d", i+1) {
			assert.Equal(t, code, r.Error.Code, "entry %d", i+1)
		}
	}
	assert.Equal(t, []payments.Entry{entry("good")}, l.Entries())
}

// TestBatchFaultsFailSomeEntries: a log failing 30% of appends fails
// single entries of a batch with a retryable error, stores the others, and
// a resend stores the rest without storing anything twice.
func TestBatchFaultsFailSomeEntries(t *testing.T) {
	l := sim.NewLog(sim.LogConfig{Seed: 12})
	require.NoError(t, l.SetFaults(sim.LogFaults{ErrorRate: sim.Percent(30)}))
	h := sim.LogHandler(l, nil)
	c := logClient(t, h)
	batch := make([]payments.Entry, 200)
	for i := range batch {
		batch[i] = entry(fmt.Sprintf("p%d", i))
	}
	failed := 0
	for round := 0; len(batch) > 0; round++ {
		require.Less(t, round, 50, "a 30% fault rate must not stop the batch from draining")
		results, err := c.AppendBatch(context.Background(), batch)
		require.NoError(t, err)
		var again []payments.Entry
		for i, r := range results {
			if r != nil {
				require.ErrorIs(t, r, httpapi.ErrOverloaded)
				require.False(t, payments.IsPermanent(r))
				again = append(again, batch[i])
			}
		}
		if round == 0 {
			failed = len(again)
		}
		batch = again
	}
	assert.Greater(t, failed, 30, "about 60 of 200 fail the first time")
	assert.Less(t, failed, 90)
	st := l.Stats()
	assert.Equal(t, 200, st.Stored)
	assert.Equal(t, 0, st.Duplicates+st.Conflicts, "a failed entry was not stored")
	assert.Equal(t, st.Appends, st.Stored+st.Faults)
}
