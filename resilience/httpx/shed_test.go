package httpx_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/httpx"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// get fetches url and returns the status, the Retry-After header and the
// body.
func get(t *testing.T, c *http.Client, url string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer func() { require.NoError(t, resp.Body.Close()) }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(body)
}

// TestShedBulkheadOverARealServer: with the only slot held by a request in
// flight, the next one is refused with 503 and Retry-After, and never
// reaches the handler; once the slot is free requests pass again.
func TestShedBulkheadOverARealServer(t *testing.T) {
	b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, Name: "api"})
	require.NoError(t, err)
	entered, release := make(chan struct{}), make(chan struct{})
	calls := make(chan string, 4)
	srv := httptest.NewServer(httpx.Shed(b, httpx.ShedConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls <- r.URL.Path
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
		}
		_, _ = io.WriteString(w, "done\n")
	})))
	defer srv.Close()

	slow := make(chan int, 1)
	go func() { // no require here: not the test's goroutine
		resp, err := srv.Client().Get(srv.URL + "/slow")
		if err != nil {
			slow <- -1
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		slow <- resp.StatusCode
	}()
	select {
	case <-entered:
	case code := <-slow:
		t.Fatalf("the slow request ended with %d before reaching the handler", code)
	}
	code, retryAfter, body := get(t, srv.Client(), srv.URL+"/fast")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "1", retryAfter, "a bulkhead gives no wait: the least is 1s")
	assert.Equal(t, "overloaded\n", body)
	close(release)
	assert.Equal(t, http.StatusOK, <-slow)
	code, _, _ = get(t, srv.Client(), srv.URL+"/fast")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, []string{"/slow", "/fast"}, []string{<-calls, <-calls}, "the refused request never ran")
	assert.Empty(t, calls)
	s := b.Snapshot()
	assert.Equal(t, uint64(1), s.Rejected)
	assert.Zero(t, s.InFlight)
}

// TestShedAdaptiveLearnsFromStatuses: 5xx answers shrink an adaptive
// limit; other statuses do not.
func TestShedAdaptiveLearnsFromStatuses(t *testing.T) {
	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Initial: 8, BackoffPercent: 50})
	require.NoError(t, err)
	srv := httptest.NewServer(httpx.Shed(a, httpx.ShedConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/broken":
			http.Error(w, "database down", http.StatusInternalServerError)
		case "/missing":
			http.NotFound(w, r)
		}
	})))
	defer srv.Close()
	for _, step := range []struct {
		path      string
		code      int
		wantLimit int
	}{
		{"/broken", 500, 4}, {"/missing", 404, 4}, {"/ok", 200, 4}, {"/broken", 500, 2},
	} {
		code, _, _ := get(t, srv.Client(), srv.URL+step.path)
		assert.Equal(t, step.code, code, step.path)
		assert.Equal(t, step.wantLimit, a.Snapshot().Limit, "after %s", step.path)
	}
	assert.Equal(t, uint64(2), a.Snapshot().Drops)
}

func TestShedRetryAfterComesFromTheRejection(t *testing.T) {
	lim, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Every(90500 * time.Millisecond), Clock: clock.NewMock()})
	require.NoError(t, err)
	h := httpx.Shed(lim, httpx.ShedConfig{
		Refused: func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "busy: "+r.URL.Path) },
	})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	codes := []int{}
	var last *httptest.ResponseRecorder
	for range 2 {
		last = httptest.NewRecorder()
		h.ServeHTTP(last, httptest.NewRequest(http.MethodGet, "/quote", nil))
		codes = append(codes, last.Code)
	}
	assert.Equal(t, []int{200, 503}, codes)
	assert.Equal(t, "91", last.Header().Get("Retry-After"), "90.5s rounded up to whole seconds")
	assert.Equal(t, "busy: /quote", last.Body.String())
}

func TestShedCustomFailure(t *testing.T) {
	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Initial: 8, BackoffPercent: 50})
	require.NoError(t, err)
	h := httpx.Shed(a, httpx.ShedConfig{Failure: func(status int) bool { return status == http.StatusTooManyRequests }})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/throttled" {
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			w.WriteHeader(http.StatusBadGateway)
		}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/bad-gateway", nil))
	assert.Equal(t, 8, a.Snapshot().Limit, "a 502 is not a failure by this rule")
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/throttled", nil))
	assert.Equal(t, 4, a.Snapshot().Limit)
}

func TestShedHandlerPanicIsAFailure(t *testing.T) {
	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Initial: 8, BackoffPercent: 50})
	require.NoError(t, err)
	h := httpx.Shed(a, httpx.ShedConfig{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	})
	s := a.Snapshot()
	assert.Equal(t, 4, s.Limit)
	assert.Zero(t, s.InFlight, "the slot is back")
}

func TestShedRequestsThatNeverRan(t *testing.T) {
	b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	var nilBulkhead *bulkhead.Bulkhead
	ran := false
	handler := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true })

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	httpx.Shed(b, httpx.ShedConfig{})(handler).ServeHTTP(w, httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, "the client went away")
	assert.Empty(t, w.Header().Get("Retry-After"))

	for name, g := range map[string]resilience.Guard{"nil guard": nil, "nil *Bulkhead": nilBulkhead} {
		w = httptest.NewRecorder()
		httpx.Shed(g, httpx.ShedConfig{})(handler).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		assert.Equal(t, http.StatusInternalServerError, w.Code, name)
		assert.Equal(t, "internal server error\n", w.Body.String(), "%s: no internal detail leaks", name)
	}
	assert.False(t, ran)
	assert.Equal(t, bulkhead.Snapshot{MaxConcurrent: 1}, b.Snapshot())
}

type tenant struct{}

// TestShedHandsTheHandlerTheGuardsContext: a guard that derives the
// context (a timeout, here a value) reaches the handler with it; the
// response writer keeps flushing.
func TestShedHandsTheHandlerTheGuardsContext(t *testing.T) {
	tag := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		return next.Run(context.WithValue(ctx, tenant{}, "acme"))
	})
	var seen any
	w := httptest.NewRecorder()
	httpx.Shed(tag, httpx.ShedConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Context().Value(tenant{})
		require.NoError(t, http.NewResponseController(w).Flush())
		w.(http.Flusher).Flush()
	})).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, "acme", seen)
	assert.True(t, w.Flushed)
	assert.Equal(t, http.StatusOK, w.Code)
}

// A bulkhead sheds the requests beyond what the server can hold at once.
func ExampleShed() {
	api, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, Name: "api"})
	if err != nil {
		panic(err) // only a bad Config fails
	}
	var h http.Handler
	h = httpx.Shed(api, httpx.ShedConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/outer" { // a second request arrives while this one holds the slot
			inner := httptest.NewRecorder()
			h.ServeHTTP(inner, httptest.NewRequest(http.MethodGet, "/inner", nil))
			fmt.Println("inner:", inner.Code, "retry-after", inner.Header().Get("Retry-After"))
		}
		fmt.Fprintln(w, "ok")
	}))
	outer := httptest.NewRecorder()
	h.ServeHTTP(outer, httptest.NewRequest(http.MethodGet, "/outer", nil))
	fmt.Println("outer:", outer.Code)
	// Output:
	// inner: 503 retry-after 1
	// outer: 200
}
