package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/httpx"
)

var retryAfterNow = time.Date(1994, 11, 6, 8, 49, 0, 0, time.UTC)

func TestParseRetryAfter(t *testing.T) {
	cases := []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"120", 120 * time.Second, true},
		{"0", 0, true},
		{"  7 ", 7 * time.Second, true},
		{"007", 7 * time.Second, true},
		{"Sun, 06 Nov 1994 08:49:37 GMT", 37 * time.Second, true},
		{"Sunday, 06-Nov-94 08:49:37 GMT", 37 * time.Second, true},
		{"Sun Nov  6 08:49:37 1994", 37 * time.Second, true},
		{"Sun, 06 Nov 1994 08:48:00 GMT", 0, false}, // in the past
		{"Sun, 06 Nov 1994 08:49:00 GMT", 0, false}, // now
		{"99999999999999999999999", time.Duration(9223372036) * time.Second, true},
		{"", 0, false},
		{"   ", 0, false},
		{"-5", 0, false},
		{"+5", 0, false},
		{"1.5", 0, false},
		{"5s", 0, false},
		{"1 2", 0, false},
		{"soon", 0, false},
		{"Sun, 06 Nov 1994 08:49:37 PST", 0, false},
	}
	// A date written by net/http reads back as its distance from now.
	at := retryAfterNow.Add(90 * time.Second)
	cases = append(cases, struct {
		value string
		want  time.Duration
		ok    bool
	}{at.Format(http.TimeFormat), 90 * time.Second, true})
	for _, tc := range cases {
		got, ok := httpx.ParseRetryAfter(tc.value, retryAfterNow)
		assert.Equal(t, tc.ok, ok, "%q: ok", tc.value)
		assert.Equal(t, tc.want, got, "%q: got %v, want %v", tc.value, got, tc.want)
	}
}

// FuzzParseRetryAfter: any header value is read without a panic as a
// non-negative wait or as nothing; a run of digits is that many seconds
// (saturated).
func FuzzParseRetryAfter(f *testing.F) {
	f.Add("120")
	f.Add("Sun, 06 Nov 1994 08:49:37 GMT")
	f.Fuzz(func(t *testing.T, value string) {
		d, ok := httpx.ParseRetryAfter(value, retryAfterNow)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("%q: got %v, %v", value, d, ok)
		}
		trimmed := strings.TrimSpace(value)
		if n, err := strconv.ParseUint(trimmed, 10, 63); err == nil && !strings.HasPrefix(trimmed, "+") {
			want := time.Duration(min(n, uint64(9223372036))) * time.Second
			if !ok || d != want {
				t.Fatalf("%q: got %v, %v; want %v", value, d, ok, want)
			}
		}
	})
}

// FuzzTransportRetryAfter sends any Retry-After value through a real
// loopback server and the transport: the breaker it opens waits between
// its own OpenWait and MaxRetryAfter, and a run of digits holds it open
// that many seconds within those bounds.
func FuzzTransportRetryAfter(f *testing.F) {
	for _, v := range []string{"7", "0", "3600", "99999999999999999999", "soon", "Sun, 06 Nov 1994 08:49:46 GMT", " 9 "} {
		f.Add(v)
	}
	var header atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", header.Load().(string))
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	const openWait, maxWait = 5 * time.Second, 20 * time.Second
	f.Fuzz(func(t *testing.T, value string) {
		if strings.IndexFunc(value, func(r rune) bool { return r < 0x20 || r >= 0x7f }) >= 0 {
			t.Skip("not a value a header can carry")
		}
		header.Store(value)
		mock := clock.NewMock()
		mock.Set(retryAfterNow)
		tr, err := httpx.NewTransport(httpx.TransportConfig{Base: base, MaxAttempts: 1, MaxRetryAfter: maxWait,
			Clock: mock, Breaker: breaker.Config{ConsecutiveFailures: 1, OpenWait: openWait}})
		require.NoError(t, err)
		client := &http.Client{Transport: tr}
		resp, err := client.Get(srv.URL)
		require.NoError(t, err)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		httpx.DrainBody(resp.Body)

		_, err = client.Get(srv.URL)
		require.ErrorIs(t, err, breaker.ErrOpen)
		wait, _ := resilience.RetryAfter(err)
		assert.GreaterOrEqual(t, wait, openWait, "Retry-After: %q", value)
		assert.LessOrEqual(t, wait, maxWait, "Retry-After: %q", value)
		trimmed := strings.Trim(value, " \t")
		if n, err := strconv.ParseUint(trimmed, 10, 63); err == nil && !strings.HasPrefix(trimmed, "+") {
			want := min(max(time.Duration(min(n, 3600))*time.Second, openWait), maxWait)
			assert.Equal(t, want, wait, "Retry-After: %q", value)
		}
	})
}
