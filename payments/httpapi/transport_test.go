package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
)

func inProcess(h http.Handler) *http.Client {
	return &http.Client{Transport: httpapi.HandlerTransport(h)}
}

// TestHandlerTransportServesTheBank runs the typed client against the
// simulated bank with no socket, from many goroutines at once.
func TestHandlerTransportServesTheBank(t *testing.T) {
	b := simBank(t)
	require.NoError(t, b.Open("acct_alice0001", payments.MustParseMoney("1000.00 USD")))
	h := sim.BankHandler(b, nil)
	c, err := httpapi.NewBankClient("http://bank.test", httpapi.ClientConfig{HTTPClient: inProcess(h)})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 5 {
				key := fmt.Sprintf("k%d-%d", i, j%3) // each key sent again: replays
				_, err := c.Transfer(context.Background(), transferReq(key))
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 48, b.Stats().DebitsApplied)
	assert.Equal(t, 32, b.Stats().Replays)
	_, err = c.Transfer(context.Background(), transferReq("k0-0"))
	require.NoError(t, err)
	_, err = c.Status(context.Background(), "nope")
	assert.ErrorIs(t, err, payments.ErrNotFound, "error bodies and content types survive the transport")
}

// TestHandlerTransportHonoursCancellation: under synctest, an injected
// hour of latency and a caller's 2s deadline: the call ends at 2s of fake
// time, the handler sees its request cancelled, and no goroutine is left.
func TestHandlerTransportHonoursCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := simBank(t)
		inj, err := sim.NewInjector(sim.InjectorConfig{Faults: sim.Faults{Latency: sim.Latency{Fixed: time.Hour}}})
		require.NoError(t, err)
		h := sim.BankHandler(b, inj)
		c, err := httpapi.NewBankClient("http://bank.test", httpapi.ClientConfig{HTTPClient: inProcess(h)})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err = c.Transfer(ctx, transferReq("k1"))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, err, httpapi.ErrTransport)
		assert.Equal(t, 2*time.Second, time.Since(start))
		synctest.Wait() // the handler's goroutine ends once it sees the cancellation
		assert.Equal(t, 1, inj.Stats().Cancelled)
		assert.Equal(t, 0, b.Stats().TransferCalls)
	})
}

// The server side sees a request of its own: none of the caller's context
// values, a path-only URL, a request URI, a host, and a body it can read.
func TestHandlerTransportBuildsAServerRequest(t *testing.T) {
	type key struct{}
	var got *http.Request
	var body string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		data, _ := io.ReadAll(r.Body)
		body = string(data)
		w.Header().Set("X-Answer", "42")
		_, _ = io.WriteString(w, "hello")
	})
	ctx := context.WithValue(context.Background(), key{}, "caller's")
	req, err := http.NewRequestWithContext(ctx, "POST", "https://svc.test/a/b?x=1", strings.NewReader("ping"))
	require.NoError(t, err)
	resp, err := inProcess(h).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "hello", string(data))
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "42", resp.Header.Get("X-Answer"))
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"), "sniffed, as a server does")
	assert.Equal(t, "ping", body)
	assert.Nil(t, got.Context().Value(key{}), "a server never sees its client's context values")
	assert.Equal(t, "/a/b?x=1", got.RequestURI)
	assert.Equal(t, "/a/b", got.URL.Path)
	assert.Empty(t, got.URL.Host)
	assert.Equal(t, "svc.test", got.Host)
	assert.NotNil(t, got.TLS)
	assert.Error(t, got.Context().Err(), "the request's context ends when the handler returns")
}

func TestHandlerTransportFailures(t *testing.T) {
	do := func(h http.Handler) error {
		c, err := httpapi.NewLogClient("http://log.test", httpapi.ClientConfig{HTTPClient: inProcess(h)})
		require.NoError(t, err)
		return c.Append(context.Background(), entry("p1"))
	}
	t.Run("hijacked and closed", func(t *testing.T) {
		err := do(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			require.NoError(t, err)
			_ = conn.Close()
		}))
		assert.ErrorIs(t, err, httpapi.ErrTransport)
		assert.ErrorIs(t, err, httpapi.ErrConnectionClosed)
	})
	t.Run("panicked", func(t *testing.T) {
		err := do(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
		assert.ErrorIs(t, err, httpapi.ErrTransport)
		assert.ErrorIs(t, err, httpapi.ErrHandlerPanicked)
		assert.ErrorContains(t, err, "boom")
	})
	t.Run("nil handler", func(t *testing.T) {
		assert.ErrorIs(t, do(nil), httpapi.ErrTransport)
	})
	t.Run("caller already gone", func(t *testing.T) {
		called := false
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://x.test/", nil)
		_, err := httpapi.HandlerTransport(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })).RoundTrip(req)
		assert.True(t, errors.Is(err, context.Canceled))
		assert.False(t, called)
	})
	t.Run("status written twice, bad status", func(t *testing.T) {
		resp, err := inProcess(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTeapot)
			w.WriteHeader(http.StatusOK)
		})).Get("http://x.test/")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusTeapot, resp.StatusCode)
		resp, err = inProcess(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(42) })).Get("http://x.test/")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	})
}

// A lost reply (the simulator hijacks and closes the connection after the
// bank committed) works in-process too.
func TestHandlerTransportLostReply(t *testing.T) {
	b := simBank(t)
	inj, err := sim.NewInjector(sim.InjectorConfig{Faults: sim.Faults{LostReplyRate: sim.Always, LostReply: sim.CloseConnection}})
	require.NoError(t, err)
	h := sim.BankHandler(b, inj)
	c, err := httpapi.NewBankClient("http://bank.test", httpapi.ClientConfig{HTTPClient: inProcess(h)})
	require.NoError(t, err)
	_, err = c.Transfer(context.Background(), transferReq("k1"))
	assert.ErrorIs(t, err, httpapi.ErrTransport)
	assert.False(t, httpapi.NotProcessed(err))
	assert.Equal(t, 1, b.Stats().DebitsApplied)
}
