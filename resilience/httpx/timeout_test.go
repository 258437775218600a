package httpx_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/httpx"
	"github.com/riprap-go/riprap/resilience/timeout"
)

func newTimeout(t *testing.T, mode timeout.Mode, clk clock.Clock) *timeout.Timeout {
	t.Helper()
	to, err := timeout.New(timeout.Config{Name: "api", Timeout: time.Second, Mode: mode, Clock: clk})
	require.NoError(t, err)
	return to
}

// A handler that ignores its context still gets its client a 503 at the
// deadline; its context ended as a deadline, and its late writes fail.
func TestTimeoutAbandonAnswersAtTheDeadline(t *testing.T) {
	trNoGoroutineLeak(t)
	mock := clock.NewMock()
	started, release := make(chan context.Context, 1), make(chan struct{})
	lateWrite := make(chan error, 1)
	h := httpx.Timeout(newTimeout(t, timeout.Abandon, mock), httpx.TimeoutConfig{})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Half", "done")
			started <- r.Context()
			<-release // ignores its context
			_, err := io.WriteString(w, "too late")
			lateWrite <- err
		}))
	srv := trServer(t, h.ServeHTTP)
	got := make(chan trResult, 1)
	go func() { got <- trGet(srv.Client(), srv.URL) }()
	ctx := <-started
	mock.Add(time.Second)

	r := trWait(t, got, "the response")
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusServiceUnavailable, r.code)
	assert.Equal(t, "request timed out\n", r.body)
	assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
	var te *timeout.Error
	assert.ErrorAs(t, context.Cause(ctx), &te)
	close(release)
	assert.ErrorIs(t, trWait(t, lateWrite, "the late write"), http.ErrHandlerTimeout)
}

func TestTimeoutCooperativeAnswersWhenTheHandlerReturns(t *testing.T) {
	trNoGoroutineLeak(t)
	mock := clock.NewMock()
	started := make(chan struct{})
	h := httpx.Timeout(newTimeout(t, timeout.Cooperative, mock), httpx.TimeoutConfig{
		Refused: func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "try later") },
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
		_, _ = io.WriteString(w, "partial") // held back, then dropped
	}))
	srv := trServer(t, h.ServeHTTP)
	got := make(chan trResult, 1)
	go func() { got <- trGet(srv.Client(), srv.URL) }()
	<-started
	mock.Add(time.Second)

	r := trWait(t, got, "the response")
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusServiceUnavailable, r.code)
	assert.Equal(t, "try later", r.body)
}

func TestTimeoutPassesAnAnswerInTime(t *testing.T) {
	for _, mode := range []timeout.Mode{timeout.Cooperative, timeout.Abandon} {
		t.Run(mode.String(), func(t *testing.T) {
			h := httpx.Timeout(newTimeout(t, mode, nil), httpx.TimeoutConfig{})(
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("X-Payment", "p-1")
					w.WriteHeader(http.StatusEarlyHints) // cannot go ahead of a held answer: dropped
					w.WriteHeader(http.StatusCreated)
					w.WriteHeader(http.StatusTeapot) // a second status is ignored, as net/http does
					_, _ = io.WriteString(w, "created ")
					_, _ = io.WriteString(w, "p-1")
				}))
			srv := trServer(t, h.ServeHTTP)
			resp, err := srv.Client().Get(srv.URL)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			assert.Equal(t, http.StatusCreated, resp.StatusCode)
			assert.Equal(t, "p-1", resp.Header.Get("X-Payment"))
			assert.Equal(t, "created p-1", string(body))
		})
	}
}

func TestTimeoutDoesNotStream(t *testing.T) {
	h := httpx.Timeout(newTimeout(t, timeout.Cooperative, nil), httpx.TimeoutConfig{})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			err := http.NewResponseController(w).Flush()
			assert.ErrorIs(t, err, http.ErrNotSupported)
		}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
}

func TestTimeoutPanics(t *testing.T) {
	serve := func(mode timeout.Mode, v any) func() {
		h := httpx.Timeout(newTimeout(t, mode, nil), httpx.TimeoutConfig{})(
			http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(v) }))
		return func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil)) }
	}
	assert.PanicsWithValue(t, "boom", serve(timeout.Cooperative, "boom"))
	assert.PanicsWithValue(t, http.ErrAbortHandler, serve(timeout.Abandon, http.ErrAbortHandler),
		"net/http still aborts quietly")
	func() {
		defer func() {
			pe, ok := recover().(*resilience.PanicError)
			require.True(t, ok)
			assert.Equal(t, "boom", pe.Value)
		}()
		serve(timeout.Abandon, "boom")()
	}()
}

func TestTimeoutWithoutATimeoutAnswers500(t *testing.T) {
	for name, to := range map[string]*timeout.Timeout{"nil": nil, "zero": timeout.After(0)} {
		t.Run(name, func(t *testing.T) {
			called := false
			h := httpx.Timeout(to, httpx.TimeoutConfig{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				called = true
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			assert.Equal(t, http.StatusInternalServerError, rec.Code)
			assert.False(t, called)
		})
	}
}

func TestTimeoutClientGone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	h := httpx.Timeout(newTimeout(t, timeout.Cooperative, nil), httpx.TimeoutConfig{})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cancel()
			_, _ = io.WriteString(w, "nobody reads this")
		}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "nobody reads it, but the handler's answer is not sent")
	assert.NotContains(t, rec.Body.String(), "nobody reads this")
}
