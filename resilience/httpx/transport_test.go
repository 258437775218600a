package httpx_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/httpx"
)

func TestTransportRetriesFailuresUntilAnAnswer(t *testing.T) {
	trNoGoroutineLeak(t)
	script := &trScript{statuses: []int{503, 502, 200}}
	srv := trServer(t, script.ServeHTTP)
	client, _, _ := trClient(t, httpx.TransportConfig{})

	code, body := trReader(t)(client.Get(srv.URL))
	assert.Equal(t, 200, code)
	assert.Equal(t, "OK", body)
	assert.Len(t, script.seen(), 3)
}

// The core returns the last result with a nil error when a retry gives up
// on a result judged a failure: the caller reads the server's answer.
func TestTransportReturnsTheLastFailedResponse(t *testing.T) {
	trNoGoroutineLeak(t)
	script := &trScript{statuses: []int{503}}
	srv := trServer(t, script.ServeHTTP)
	client, _, _ := trClient(t, httpx.TransportConfig{MaxAttempts: 4})

	code, body := trReader(t)(client.Get(srv.URL))
	assert.Equal(t, 503, code)
	assert.Equal(t, "Service Unavailable", body)
	assert.Len(t, script.seen(), 4)
}

func TestTransportClassifiesStatuses(t *testing.T) {
	cases := []struct {
		name     string
		failures []int
		status   int
		attempts int
	}{
		{"500 is a failure", nil, 500, 3},
		{"504 is a failure", nil, 504, 3},
		{"501 is an answer: no retry fixes it", nil, 501, 1},
		{"505 is an answer", nil, 505, 1},
		{"429 is a failure", nil, 429, 3},
		{"404 is an answer", nil, 404, 1},
		{"400 is an answer", nil, 400, 1},
		{"409 is an answer", nil, 409, 1},
		{"a custom list drops 500", []int{502}, 500, 1},
		{"a custom list keeps its own", []int{502}, 502, 3},
		{"429 stays a failure with any list", []int{}, 429, 3},
		{"503 stays a failure with any list", []int{}, 503, 3},
		{"a custom list may name a 4xx", []int{408}, 408, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			script := &trScript{statuses: []int{tc.status}}
			srv := trServer(t, script.ServeHTTP)
			client, tr, _ := trClient(t, httpx.TransportConfig{FailureStatuses: tc.failures,
				Breaker: breaker.Config{ConsecutiveFailures: 3}})
			code, _ := trReader(t)(client.Get(srv.URL))
			assert.Equal(t, tc.status, code)
			assert.Len(t, script.seen(), tc.attempts, "attempts")
			br, ok := tr.Breaker(trHost(t, srv))
			require.True(t, ok)
			wantState := breaker.Closed
			if tc.attempts > 1 {
				wantState = breaker.Open
			}
			assert.Equal(t, wantState, br.State(), "an answer never trips the breaker")
		})
	}
}

func TestTransportReplaysTheBodyOnRetry(t *testing.T) {
	cases := []struct {
		name   string
		method string
		header string
	}{
		{"PUT is idempotent", http.MethodPut, ""},
		{"POST with an Idempotency-Key", http.MethodPost, "Idempotency-Key"},
		{"POST with an X-Idempotency-Key", http.MethodPost, "X-Idempotency-Key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			trNoGoroutineLeak(t)
			script := &trScript{statuses: []int{503, 500, 201}}
			srv := trServer(t, script.ServeHTTP)
			client, _, _ := trClient(t, httpx.TransportConfig{})
			req, err := http.NewRequest(tc.method, srv.URL, bytes.NewReader([]byte("pay 10 EUR")))
			require.NoError(t, err)
			if tc.header != "" {
				req.Header.Set(tc.header, "order-42")
			}
			code, _ := trReader(t)(client.Do(req))
			assert.Equal(t, 201, code)
			assert.Equal(t, []string{"pay 10 EUR", "pay 10 EUR", "pay 10 EUR"}, script.seen())
		})
	}
}

func TestTransportSendsUnsafeRequestsOnce(t *testing.T) {
	script := &trScript{statuses: []int{503, 200}}
	srv := trServer(t, script.ServeHTTP)
	client, _, _ := trClient(t, httpx.TransportConfig{})

	code, _ := trReader(t)(client.Post(srv.URL, "text/plain", strings.NewReader("charge")))
	assert.Equal(t, 503, code, "the failed answer comes back, not retried")
	assert.Equal(t, []string{"charge"}, script.seen())
}

func TestTransportSendsABodyThatCannotBeRewoundOnce(t *testing.T) {
	script := &trScript{statuses: []int{503, 200}}
	srv := trServer(t, script.ServeHTTP)
	client, _, _ := trClient(t, httpx.TransportConfig{})
	body := newTrBody("pay 10")
	req, err := http.NewRequest(http.MethodPut, srv.URL, body)
	require.NoError(t, err)
	require.Nil(t, req.GetBody, "a custom reader has no GetBody")

	code, _ := trReader(t)(client.Do(req))
	assert.Equal(t, 503, code)
	assert.Equal(t, []string{"pay 10"}, script.seen(), "a PUT whose body cannot be rewound is not repeated")
	assert.Positive(t, body.closed.Load())
}

func TestTransportRepeatablePredicate(t *testing.T) {
	script := &trScript{statuses: []int{503, 200}}
	srv := trServer(t, script.ServeHTTP)
	client, _, _ := trClient(t, httpx.TransportConfig{Repeatable: func(r *http.Request) bool {
		return r.URL.Path == "/search" || httpx.SafeToRepeat(r)
	}})

	code, _ := trReader(t)(client.Post(srv.URL+"/search", "text/plain", strings.NewReader("q=riprap")))
	assert.Equal(t, 200, code)
	assert.Equal(t, []string{"q=riprap", "q=riprap"}, script.seen())
}

func TestTransportStopsWhenTheBodyCannotBeRewound(t *testing.T) {
	script := &trScript{statuses: []int{503, 200}}
	srv := trServer(t, script.ServeHTTP)
	client, tr, _ := trClient(t, httpx.TransportConfig{Breaker: breaker.Config{ConsecutiveFailures: 2}})
	req, err := http.NewRequest(http.MethodPut, srv.URL, strings.NewReader("pay"))
	require.NoError(t, err)
	broken := errors.New("spool file gone")
	req.GetBody = func() (io.ReadCloser, error) { return nil, broken }

	_, err = client.Do(req)
	require.ErrorIs(t, err, broken)
	assert.Len(t, script.seen(), 1, "no retry without a body to send")
	br, _ := tr.Breaker(trHost(t, srv))
	s := br.Snapshot()
	assert.Equal(t, uint64(1), s.Failures, "the 503 counts")
	assert.Equal(t, uint64(1), s.Ignored, "the lost body is not the server's fault")
}

func TestTransportIgnoresTheCallersCancellation(t *testing.T) {
	trNoGoroutineLeak(t)
	arrived := make(chan struct{})
	srv := trServer(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	})
	client, tr, _ := trClient(t, httpx.TransportConfig{Breaker: breaker.Config{ConsecutiveFailures: 1}})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)

	_, err := client.Do(req)
	require.ErrorIs(t, err, context.Canceled)
	br, _ := tr.Breaker(trHost(t, srv))
	assert.Equal(t, breaker.Closed, br.State())
	assert.Equal(t, uint64(0), br.Snapshot().Failures)
}

func TestTransportClosesTheBodyOfARefusedRequest(t *testing.T) {
	srv := trServer(t, (&trScript{statuses: []int{500}}).ServeHTTP)
	client, _, _ := trClient(t, httpx.TransportConfig{MaxAttempts: 1, Breaker: breaker.Config{ConsecutiveFailures: 1}})
	code, _ := trReader(t)(client.Get(srv.URL))
	require.Equal(t, 500, code)

	body := newTrBody("x")
	req, _ := http.NewRequest(http.MethodPost, srv.URL, body)
	_, err := client.Do(req)
	require.ErrorIs(t, err, breaker.ErrOpen)
	assert.True(t, resilience.IsRejected(err))
	assert.Positive(t, body.closed.Load(), "a RoundTripper closes the body, sent or not")
}

func TestTransportRefusesANilRequest(t *testing.T) {
	tr, err := httpx.NewTransport(httpx.TransportConfig{})
	require.NoError(t, err)
	_, err = tr.RoundTrip(nil)
	assert.Error(t, err)
	_, err = tr.RoundTrip(&http.Request{})
	assert.Error(t, err)
}

// rwCloser is the body net/http gives a 101 Switching Protocols response:
// readable and writable.
type rwCloser struct {
	io.Reader
	written bytes.Buffer
}

func (c *rwCloser) Write(p []byte) (int, error) { return c.written.Write(p) }
func (c *rwCloser) Close() error                { return nil }

// The transport wraps response bodies to release its timers, and keeps
// a writable body writable.
func TestTransportKeepsAnUpgradedBodyWritable(t *testing.T) {
	conn := &rwCloser{Reader: strings.NewReader("hello")}
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusSwitchingProtocols, Header: http.Header{}, Body: conn}, nil
	})
	tr, err := httpx.NewTransport(httpx.TransportConfig{Base: base, AttemptTimeout: time.Second, Timeout: time.Minute})
	require.NoError(t, err)
	resp, err := tr.RoundTrip(httptest.NewRequest(http.MethodGet, "http://ws.test/", nil))
	require.NoError(t, err)
	w, ok := resp.Body.(io.Writer)
	require.True(t, ok, "got %T", resp.Body)
	_, _ = io.WriteString(w, "ping")
	assert.Equal(t, "ping", conn.written.String())
	require.NoError(t, resp.Body.Close())
}

func TestTransportHeadWithTimeouts(t *testing.T) {
	trNoGoroutineLeak(t)
	srv := trServer(t, (&trScript{statuses: []int{200}}).ServeHTTP)
	client, _, _ := trClient(t, httpx.TransportConfig{AttemptTimeout: time.Second, Timeout: time.Minute})
	resp, err := client.Head(srv.URL)
	require.NoError(t, err)
	assert.Equal(t, http.NoBody, resp.Body)
	assert.Equal(t, 200, resp.StatusCode)
}
