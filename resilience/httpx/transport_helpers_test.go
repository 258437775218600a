package httpx_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/httpx"
)

// trBase is a fresh http.Transport that counts the connections it dials,
// so that a test can tell reused connections from leaked ones.
type trBase struct {
	*http.Transport
	dials atomic.Int64
}

func newTrBase() *trBase {
	b := &trBase{}
	d := &net.Dialer{}
	b.Transport = &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			b.dials.Add(1)
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 16,
	}
	return b
}

// trServer starts a loopback server closed at the end of the test.
func trServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// trClient builds a transport over a counting base. Zero Backoff means
// retries without waiting, so that the tests need no clock.
func trClient(t *testing.T, cfg httpx.TransportConfig) (*http.Client, *httpx.Transport, *trBase) {
	t.Helper()
	base := newTrBase()
	if cfg.Base == nil {
		cfg.Base = base
	}
	if cfg.Backoff == nil {
		cfg.Backoff = backoff.Constant(0)
	}
	tr, err := httpx.NewTransport(cfg)
	require.NoError(t, err)
	t.Cleanup(base.CloseIdleConnections)
	return &http.Client{Transport: tr}, tr, base
}

// trReader returns a function that reads and closes a response, returning
// its status and body: read(client.Get(url)).
func trReader(t *testing.T) func(*http.Response, error) (int, string) {
	return func(resp *http.Response, err error) (int, string) {
		t.Helper()
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
}

// trScript answers the i-th request (from 0) with statuses[i], the last
// one repeating, and records what each request carried.
type trScript struct {
	statuses []int
	header   http.Header // sent with every failure

	mu     sync.Mutex // protects bodies
	bodies []string
}

func (s *trScript) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	i := len(s.bodies)
	s.bodies = append(s.bodies, string(b))
	s.mu.Unlock()
	code := s.statuses[min(i, len(s.statuses)-1)]
	if code >= 400 {
		for k, v := range s.header {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(code)
	_, _ = io.WriteString(w, http.StatusText(code))
}

func (s *trScript) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

// trHost is the key of a test server: its host and port.
func trHost(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	return u.Host
}

// trNoGoroutineLeak fails the test if goroutines started during it are
// still running once its other cleanups (servers, idle connections) have
// run. Over real sockets, goroutines end a little after connections
// close, so it polls; it asserts nothing about time.
func trNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			runtime.Gosched()
			time.Sleep(time.Millisecond) // over real sockets; no timing is asserted
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines before the test, %d after:\n%s", before, n,
				buf[:runtime.Stack(buf, true)])
		}
	})
}

// trBody is a request body without GetBody that records whether it was
// closed.
type trBody struct {
	io.Reader
	closed atomic.Int32
}

func newTrBody(s string) *trBody { return &trBody{Reader: strings.NewReader(s)} }

func (b *trBody) Close() error { b.closed.Add(1); return nil }

// trResult is a response read in full, for a request made on another
// goroutine than the test's.
type trResult struct {
	code int
	body string
	err  error
}

// trGet sends a GET and reads the response, for use on a goroutine of
// the test's: it reports errors instead of failing the test.
func trGet(c *http.Client, url string) trResult {
	resp, err := c.Get(url)
	if err != nil {
		return trResult{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return trResult{code: resp.StatusCode, body: string(b), err: err}
}

// trWait receives from ch, failing the test if nothing comes within ten
// seconds: a bound for a broken run, never a timing assertion.
func trWait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("gave up waiting for %s", what)
		panic("unreachable")
	}
}

// trCloseAtEnd closes stop when the test ends, before the servers it
// started close, so that a handler waiting for a cancellation the code
// under test failed to make lets the test fail instead of hanging in
// httptest.Server.Close. Call it after trServer.
func trCloseAtEnd(t *testing.T, stop chan struct{}) {
	t.Cleanup(func() { close(stop) })
}
