package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/httpx"
)

// handlerTransport serves requests in memory, so that the tests run in a
// synctest bubble where time is fake. Like every RoundTripper, it closes
// the request body.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	if req.Body != nil {
		_ = req.Body.Close()
	}
	return rec.Result(), nil
}

func TestRunTellsTheStory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		srv := newFlaky()
		require.NoError(t, run(&out, handlerTransport{srv}, "http://rates.test", srv))
		assert.Equal(t, `Server up:
  GET                                      200 0.9215                             server saw 1, breaker closed
Server flaky (every other request fails):
  GET (retried)                            200 0.9215                             server saw 2, breaker closed
  POST with an Idempotency-Key (retried)   200 0.9215                             server saw 2, breaker closed
  POST (not idempotent: not retried)       503 try again later                    server saw 1, breaker closed
Server down (the POST's failure and three more in a row open the breaker):
  GET (3 attempts)                         503 try again later                    server saw 3, breaker open
  GET while open                           refused: breaker open (retry in 500ms) server saw 0, breaker open
Server up again, after the breaker's wait:
  GET (the probe that closes it)           200 0.9215                             server saw 1, breaker closed
`, out.String())
	})
}

// newTestClient is a client over an in-memory handler, whose breaker opens
// on the first failure.
func newTestClient(t *testing.T, h http.HandlerFunc) (*http.Client, *httpx.Transport) {
	tr, err := httpx.NewTransport(httpx.TransportConfig{
		Base:        handlerTransport{h},
		MaxAttempts: 2,
		Backoff:     backoff.Constant(time.Millisecond),
		Breaker:     breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Second},
	})
	require.NoError(t, err)
	return &http.Client{Transport: tr}, tr
}

func TestRetryAfterKeepsTheBreakerOpenThatLong(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, tr := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		resp, err := client.Get("http://x.test/")
		require.NoError(t, err, "a failing answer is still an answer")
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		br, ok := tr.Breaker("x.test")
		require.True(t, ok)
		assert.Equal(t, breaker.Open, br.State())
		_, err = client.Get("http://x.test/")
		require.ErrorIs(t, err, breaker.ErrOpen)
		wait, ok := resilience.RetryAfter(err)
		assert.True(t, ok)
		assert.Equal(t, 7*time.Second, wait)
	})
}

// closeCounter is a request body that says whether it was closed.
type closeCounter struct {
	io.Reader
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

func TestBodyWithoutGetBodyIsSentOnceAndClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []string
		client, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got = append(got, string(b))
			w.WriteHeader(http.StatusBadGateway)
		})
		body := &closeCounter{Reader: strings.NewReader("pay 10")}
		req, err := http.NewRequest(http.MethodPut, "http://x.test/", body)
		require.NoError(t, err)
		require.Nil(t, req.GetBody, "a custom reader has no GetBody")
		resp, err := client.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, []string{"pay 10"}, got, "a body that cannot be replayed is not retried, even for PUT")
		assert.Positive(t, body.closed)

		refused := &closeCounter{Reader: strings.NewReader("x")}
		req, _ = http.NewRequest(http.MethodPut, "http://x.test/", refused)
		_, err = client.Do(req)
		require.ErrorIs(t, err, breaker.ErrOpen)
		assert.Positive(t, refused.closed, "a refused request's body is closed too")
	})
}

func TestNewClientOverARealServer(t *testing.T) {
	srv := httptest.NewServer(newFlaky())
	defer srv.Close()
	client, _, err := newClient(srv.Client().Transport)
	require.NoError(t, err)
	resp, err := client.Get(srv.URL + "/rate")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "0.9215", string(body))
}
