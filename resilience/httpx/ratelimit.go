package httpx

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// RateLimitConfig configures [RateLimit]. The zero value keys requests by
// client IP and answers refusals with a short plain-text body.
type RateLimitConfig struct {
	// Key derives the key of a request; nil means [ClientIP]. Requests for
	// which it returns "" share one bucket, so a constant Key makes one
	// limit for the whole server. Each tracked key keeps a copy of its
	// string, so derive short keys (hash long ones).
	Key func(*http.Request) string
	// Refused writes the body of a refusal after the middleware has set the
	// status and headers; nil writes "rate limited\n". It must not call
	// WriteHeader.
	Refused func(w http.ResponseWriter, r *http.Request)
}

// RateLimit returns server middleware that admits each request through k
// under the request's key. Every response carries the RateLimit-Limit,
// RateLimit-Remaining and RateLimit-Reset headers (the last in whole
// seconds, rounded up); a refused request gets 429 Too Many Requests with
// Retry-After in whole seconds (at least 1), and the handler is not called.
// When k is at capacity and refuses new keys, a new client gets 503 Service
// Unavailable with Retry-After: 1 instead: the server, not the client, is
// out of room. k's snapshot counts both kinds of refusal.
//
// A nil k makes every request fail with 500 Internal Server Error: a
// programmer's error, reported without a panic.
func RateLimit(k *ratelimit.Keyed, cfg RateLimitConfig) func(http.Handler) http.Handler {
	if cfg.Key == nil {
		cfg.Key = ClientIP
	}
	if cfg.Refused == nil {
		cfg.Refused = func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("rate limited\n")) }
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if k == nil {
				http.Error(w, "httpx: RateLimit without a limiter", http.StatusInternalServerError)
				return
			}
			d, err := k.Take(cfg.Key(r), 1)
			h := w.Header()
			if err != nil && errors.Is(err, ratelimit.ErrTooManyKeys) {
				refuse(w, r, http.StatusServiceUnavailable, time.Second, cfg.Refused)
				return
			}
			h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
			h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
			h.Set("RateLimit-Reset", strconv.FormatInt(ceilSeconds(d.Reset), 10))
			if !d.Allowed {
				refuse(w, r, http.StatusTooManyRequests, d.RetryAfter, cfg.Refused)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// refuse answers code with Retry-After in whole seconds, at least 1: a
// client told 0 would retry at once.
func refuse(w http.ResponseWriter, r *http.Request, code int, retryAfter time.Duration, body func(http.ResponseWriter, *http.Request)) {
	h := w.Header()
	h.Set("Retry-After", strconv.FormatInt(max(ceilSeconds(retryAfter), 1), 10))
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	body(w, r)
}

func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}

// ClientIP keys a request by the IP address of its connection
// (Request.RemoteAddr), ignoring the port. IPv4-mapped IPv6 addresses count
// as IPv4, and IPv6 clients are keyed by their /64 network, since one host
// commonly holds a whole /64. A RemoteAddr that is not an address yields
// "invalid": such requests share one bucket rather than each getting its
// own. Forwarding headers (X-Forwarded-For) are not trusted; write a Key
// function for the proxies you run behind.
func ClientIP(r *http.Request) string {
	s := r.RemoteAddr
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "invalid"
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
