package httpapi_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/httpx"
)

// dialCounter is an http.Client whose transport counts the connections it
// dials, so that a test can tell reused connections from dropped ones.
func dialCounter(t *testing.T) (*http.Client, *atomic.Int64) {
	var dials atomic.Int64
	d := &net.Dialer{}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}, &dials
}

// A transfer and a log entry carry their key in an Idempotency-Key header,
// which tells a retrying transport they may be sent again; other requests
// carry none.
func TestIdempotentRequestsCarryTheirKey(t *testing.T) {
	keys := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys <- r.Method + " " + r.Header.Get("Idempotency-Key")
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	bank, err := httpapi.NewBankClient(srv.URL, httpapi.ClientConfig{})
	require.NoError(t, err)
	lg, err := httpapi.NewLogClient(srv.URL, httpapi.ClientConfig{})
	require.NoError(t, err)
	ctx := context.Background()

	_, _ = bank.Transfer(ctx, transferReq("order-7"))
	_ = lg.Append(ctx, payments.Entry{PaymentID: "pay-7", TransferID: "tr_7", Payer: "acct_alice0001",
		Payee: "acct_bob000002", Amount: payments.MustParseMoney("1.00 USD"), At: time.Unix(0, 0).UTC()})
	_, _ = bank.Status(ctx, "order-7")
	assert.Equal(t, "POST order-7", <-keys)
	assert.Equal(t, "POST pay-7", <-keys)
	assert.Equal(t, "GET ", <-keys)
}

// A body over MaxResponseBytes is an error, and is drained so that its
// connection serves the next call: five calls, one dial.
func TestOverLongBodyKeepsTheConnection(t *testing.T) {
	srv := httptest.NewServer(answer(http.StatusOK, `{"transfer_id":"`+strings.Repeat("x", 2000)+`"}`))
	t.Cleanup(srv.Close)
	hc, dials := dialCounter(t)
	bank, err := httpapi.NewBankClient(srv.URL, httpapi.ClientConfig{HTTPClient: hc, MaxResponseBytes: 100})
	require.NoError(t, err)
	for range 5 {
		_, err := bank.Transfer(context.Background(), transferReq("k1"))
		require.ErrorIs(t, err, httpapi.ErrMalformedResponse)
	}
	assert.Equal(t, int64(1), dials.Load())
}

// Retry-After is read by httpx.ParseRetryAfter, with httpapi's bound: a
// value past a day is no hint.
func TestRetryAfterForms(t *testing.T) {
	mock := clock.NewMock()
	for _, tc := range []struct {
		value string
		want  time.Duration
	}{
		{"7", 7 * time.Second},
		{mock.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat), 90 * time.Second},
		{"86400", 24 * time.Hour},
		{"86401", 0},
		{"-3", 0},
		{"+3", 0},
		{"soon", 0},
		{mock.Now().Add(-time.Minute).UTC().Format(http.TimeFormat), 0},
	} {
		bank := newBank(t, reply(http.StatusTooManyRequests, `{}`, "Retry-After", tc.value), httpapi.ClientConfig{Clock: mock})
		_, err := bank.Transfer(context.Background(), transferReq("k1"))
		require.ErrorIs(t, err, httpapi.ErrOverloaded, tc.value)
		d, _ := resilience.RetryAfter(err)
		assert.Equal(t, tc.want, d, "Retry-After: %s", tc.value)
	}
}

// A refusal by a policy of the HTTP client's own transport (here an
// httpx.Transport's open breaker) stays a rejection through the client's
// error: Outcome ignores it, so it never trips the caller's breaker, and
// NotProcessed does not claim it was never sent.
func TestTransportRejectionStaysARejection(t *testing.T) {
	var seen atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		seen.Add(1)
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	tr, err := httpx.NewTransport(httpx.TransportConfig{MaxAttempts: 1, Backoff: backoff.Constant(0),
		Breaker: breaker.Config{ConsecutiveFailures: 1}})
	require.NoError(t, err)
	fx, err := httpapi.NewFXClient(srv.URL, httpapi.ClientConfig{HTTPClient: &http.Client{Transport: tr}})
	require.NoError(t, err)
	ctx := context.Background()

	_, err = fx.Quote(ctx, payments.USD, payments.EUR)
	require.ErrorIs(t, err, httpapi.ErrServerFailure)
	assert.Equal(t, resilience.Failure, httpapi.Outcome(ctx, err))

	_, err = fx.Quote(ctx, payments.USD, payments.EUR)
	require.ErrorIs(t, err, httpapi.ErrTransport)
	assert.ErrorIs(t, err, breaker.ErrOpen)
	assert.True(t, resilience.IsRejected(err))
	assert.Equal(t, resilience.Ignored, httpapi.Outcome(ctx, err))
	assert.False(t, httpapi.NotProcessed(err))
	assert.Equal(t, int32(1), seen.Load(), "the second quote never left")
}
