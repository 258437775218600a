package httpx

import (
	"math"
	"net/http"
	"strings"
	"time"
)

// maxRetryAfterSeconds keeps a delay in seconds within time.Duration: any
// larger value is read as this many, which no cap lets through anyway.
const maxRetryAfterSeconds = math.MaxInt64 / int64(time.Second)

// ParseRetryAfter reads the value of a Retry-After header, in either form
// RFC 9110 allows: a number of seconds ("120") or an HTTP-date ("Fri, 31
// Dec 1999 23:59:59 GMT", or the obsolete RFC 850 and asctime forms),
// which is measured from now. ok is false for an empty or malformed value
// and for a date that is not after now, so that a caller never waits on
// a value it could not read. A number of seconds too large for a
// time.Duration reads as the largest whole number of seconds that fits;
// callers cap it anyway.
func ParseRetryAfter(value string, now time.Time) (d time.Duration, ok bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if secs, ok := parseSeconds(value); ok {
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	if d = t.Sub(now); d <= 0 {
		return 0, false
	}
	return d, true
}

// parseSeconds reads delay-seconds = 1*DIGIT, without sign or spaces,
// saturating instead of overflowing. strconv would accept "+5" and report
// a range error where a saturated value is wanted.
func parseSeconds(s string) (int64, bool) {
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (maxRetryAfterSeconds-int64(c-'0'))/10 {
			n = maxRetryAfterSeconds
			continue // keep checking that the rest are digits
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// retryAfter reads a response's Retry-After, capped at limit. It reports
// zero when the header is absent or unreadable.
func retryAfter(resp *http.Response, now time.Time, limit time.Duration) time.Duration {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0
	}
	d, ok := ParseRetryAfter(v, now)
	if !ok {
		return 0
	}
	return min(d, limit)
}
