package httpx_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

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
