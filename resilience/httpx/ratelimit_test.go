package httpx_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/httpx"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// hello is the real handler behind the middleware in these tests; it is
// called from the test's goroutine only (through ServeHTTP).
func hello(calls *int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		*calls++
		_, _ = io.WriteString(w, "hello\n")
	})
}

func newRateLimit(t *testing.T, cfg ratelimit.KeyedConfig, mcfg httpx.RateLimitConfig) (func(http.Handler) http.Handler, *clock.Mock) {
	t.Helper()
	mock := clock.NewMock()
	cfg.Clock = mock
	k, err := ratelimit.NewKeyed(cfg)
	require.NoError(t, err)
	return httpx.RateLimit(k, mcfg), mock
}

func serve(h http.Handler, remoteAddr string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/pay", nil)
	r.RemoteAddr = remoteAddr
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRateLimitHeadersAnd429(t *testing.T) {
	mw, mock := newRateLimit(t, ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Minute), Burst: 2}, httpx.RateLimitConfig{})
	calls := 0
	h := mw(hello(&calls))
	steps := []struct {
		status                     int
		remaining, reset, retryHdr string
	}{
		{http.StatusOK, "1", "60", ""},
		{http.StatusOK, "0", "120", ""},
		{http.StatusTooManyRequests, "0", "120", "60"},
	}
	for i, s := range steps {
		w := serve(h, "203.0.113.7:4711")
		assert.Equal(t, s.status, w.Code, "step %d", i)
		assert.Equal(t, "2", w.Header().Get("RateLimit-Limit"), "step %d", i)
		assert.Equal(t, s.remaining, w.Header().Get("RateLimit-Remaining"), "step %d", i)
		assert.Equal(t, s.reset, w.Header().Get("RateLimit-Reset"), "step %d", i)
		assert.Equal(t, s.retryHdr, w.Header().Get("Retry-After"), "step %d", i)
	}
	assert.Equal(t, 2, calls, "a refused request must not reach the handler")
	assert.Equal(t, "rate limited\n", serve(h, "203.0.113.7:1").Body.String())

	assert.Equal(t, http.StatusOK, serve(h, "198.51.100.1:80").Code, "another client has its own bucket")
	mock.Add(90 * time.Second)
	w := serve(h, "203.0.113.7:4711")
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "0", w.Header().Get("RateLimit-Remaining"))
	assert.Equal(t, "90", w.Header().Get("RateLimit-Reset"))
}

func TestRateLimitRetryAfterRoundsUpToWholeSeconds(t *testing.T) {
	mw, _ := newRateLimit(t, ratelimit.KeyedConfig{Rate: ratelimit.Every(300 * time.Millisecond), Burst: 1}, httpx.RateLimitConfig{})
	calls := 0
	h := mw(hello(&calls))
	require.Equal(t, http.StatusOK, serve(h, "192.0.2.1:1").Code)
	w := serve(h, "192.0.2.1:1")
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"), "never 0: clients would retry at once")
	assert.Equal(t, "1", w.Header().Get("RateLimit-Reset"))
}

func TestRateLimitCustomKeyAndBody(t *testing.T) {
	mw, _ := newRateLimit(t, ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Hour), Burst: 1}, httpx.RateLimitConfig{
		Key: func(r *http.Request) string { return r.Header.Get("X-Merchant") },
		Refused: func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"error":"slow down, `+r.Header.Get("X-Merchant")+`"}`)
		},
	})
	calls := 0
	h := mw(hello(&calls))
	req := func(merchant string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/pay", nil)
		r.Header.Set("X-Merchant", merchant)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	assert.Equal(t, http.StatusOK, req("m1").Code)
	assert.Equal(t, http.StatusOK, req("m2").Code)
	w := req("m1")
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, `{"error":"slow down, m1"}`, w.Body.String())
}

func TestRateLimitAtCapacityAnswers503(t *testing.T) {
	mw, _ := newRateLimit(t, ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Hour), Burst: 1, MaxKeys: 1}, httpx.RateLimitConfig{})
	calls := 0
	h := mw(hello(&calls))
	require.Equal(t, http.StatusOK, serve(h, "192.0.2.1:1").Code)
	w := serve(h, "192.0.2.2:1")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.Equal(t, 1, calls)
}

func TestRateLimitWithoutALimiterAnswers500(t *testing.T) {
	calls := 0
	w := serve(httpx.RateLimit(nil, httpx.RateLimitConfig{})(hello(&calls)), "192.0.2.1:1")
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Equal(t, "httpx: RateLimit without a limiter\n", w.Body.String())
	assert.Zero(t, calls)
}

func TestRateLimitOverARealServer(t *testing.T) {
	k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Hour), Burst: 2})
	require.NoError(t, err)
	var calls atomic.Int64
	srv := httptest.NewServer(httpx.RateLimit(k, httpx.RateLimitConfig{})(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		_, _ = io.WriteString(w, "hello\n")
	})))
	defer srv.Close()
	var codes []int
	for range 3 {
		resp, err := srv.Client().Get(srv.URL + "/pay")
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
		codes = append(codes, resp.StatusCode)
		assert.Equal(t, "2", resp.Header.Get("RateLimit-Limit"))
		assert.NotEmpty(t, resp.Header.Get("RateLimit-Remaining"))
		assert.NotEmpty(t, resp.Header.Get("RateLimit-Reset"))
		if resp.StatusCode == http.StatusTooManyRequests {
			ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			require.NoError(t, err)
			assert.InDelta(t, 3600, ra, 1)
		}
	}
	assert.Equal(t, []int{200, 200, 429}, codes)
	assert.Equal(t, int64(2), calls.Load())
	s := k.Snapshot()
	assert.Equal(t, 1, s.Keys, "one client, 127.0.0.1")
	assert.Equal(t, uint64(1), s.Limited, "the refusal counts for metrics")
}

var clientIPCases = []struct{ remoteAddr, want string }{
	{"203.0.113.7:4711", "203.0.113.7"},
	{"203.0.113.7", "203.0.113.7"},
	{"[::ffff:203.0.113.7]:80", "203.0.113.7"},
	{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
	{"[fe80::1%eth0]:80", "fe80::/64"},
	{"", "invalid"},
	{":80", "invalid"},
	{"not an address", "invalid"},
	{"[::1", "invalid"},
	{"999.1.1.1:80", "invalid"},
}

func TestClientIP(t *testing.T) {
	for _, tt := range clientIPCases {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tt.remoteAddr
		assert.Equal(t, tt.want, httpx.ClientIP(r), "ClientIP(%q)", tt.remoteAddr)
	}
}

// FuzzRateLimit feeds arbitrary RemoteAddr values and request counts to
// the middleware: it must never panic, must key every request by a short
// key, and must always send well-formed headers.
func FuzzRateLimit(f *testing.F) {
	for _, c := range clientIPCases {
		f.Add(c.remoteAddr, uint8(3))
	}
	f.Fuzz(func(t *testing.T, remoteAddr string, n uint8) {
		mock := clock.NewMock()
		k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Second), Burst: 2, MaxKeys: 4, Clock: mock})
		require.NoError(t, err)
		calls := 0
		h := httpx.RateLimit(k, httpx.RateLimitConfig{})(hello(&calls))
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remoteAddr
		key := httpx.ClientIP(r)
		if key == "" || len(key) > len("ffff:ffff:ffff:ffff::/64") {
			t.Fatalf("ClientIP(%q) = %q", remoteAddr, key)
		}
		for i := range int(n % 8) {
			w := serve(h, remoteAddr)
			want := http.StatusOK
			if i >= 2 {
				want = http.StatusTooManyRequests
			}
			if w.Code != want {
				t.Fatalf("request %d from %q: status %d, want %d", i, remoteAddr, w.Code, want)
			}
			for _, name := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
				if v, err := strconv.Atoi(w.Header().Get(name)); err != nil || v < 0 {
					t.Fatalf("request %d: %s = %q", i, name, w.Header().Get(name))
				}
			}
			if want == http.StatusTooManyRequests && w.Header().Get("Retry-After") != "1" {
				t.Fatalf("request %d: Retry-After %q", i, w.Header().Get("Retry-After"))
			}
		}
		if calls != min(int(n%8), 2) {
			t.Fatalf("handler called %d times for %d requests", calls, n%8)
		}
	})
}

func TestRateLimitWithAConstantKeyLimitsTheServer(t *testing.T) {
	mw, _ := newRateLimit(t, ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Hour), Burst: 2},
		httpx.RateLimitConfig{Key: func(*http.Request) string { return "" }})
	calls := 0
	h := mw(hello(&calls))
	var codes []int
	for _, addr := range []string{"192.0.2.1:1", "192.0.2.2:1", "192.0.2.3:1"} {
		codes = append(codes, serve(h, addr).Code)
	}
	assert.Equal(t, []int{200, 200, 429}, codes, "every client shares one bucket")
}

func ExampleRateLimit() {
	perIP, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{
		Rate: ratelimit.Every(30 * time.Second), Burst: 1, Clock: clock.NewMock(),
	})
	if err != nil {
		panic(err) // only a bad Config fails
	}
	api := httpx.RateLimit(perIP, httpx.RateLimitConfig{})(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	}))

	for range 2 {
		req := httptest.NewRequest(http.MethodGet, "/balance", nil)
		req.RemoteAddr = "198.51.100.23:50412"
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		h := rec.Header()
		fmt.Printf("%d limit=%s remaining=%s reset=%s retry-after=%q\n", rec.Code, h.Get("RateLimit-Limit"),
			h.Get("RateLimit-Remaining"), h.Get("RateLimit-Reset"), h.Get("Retry-After"))
	}
	// Output:
	// 200 limit=1 remaining=0 reset=30 retry-after=""
	// 429 limit=1 remaining=0 reset=30 retry-after="30"
}
