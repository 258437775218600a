package httpx_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/riprap-go/riprap/resilience/httpx"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// BenchmarkTransportGET sends a GET to a loopback server through a bare
// http.Transport and through the riprap transport over an identical one,
// with every policy on (breaker, retry, attempt timeout, overall timeout,
// rate limit, concurrency limit, hedging armed but never firing), and
// with the defaults (breaker and retry). The difference is what riprap
// adds to a request that succeeds. Compare medians of -count runs:
//
//	go test -run '^$' -bench TransportGET -count 10 ./resilience/httpx/
func BenchmarkTransportGET(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "0.9215")
	}))
	defer srv.Close()

	b.Run("bare", func(b *testing.B) {
		base := &http.Transport{MaxIdleConnsPerHost: 4}
		defer base.CloseIdleConnections()
		benchGET(b, base, srv.URL)
	})
	b.Run("riprap", func(b *testing.B) {
		base := &http.Transport{MaxIdleConnsPerHost: 4}
		defer base.CloseIdleConnections()
		tr, err := httpx.NewTransport(httpx.TransportConfig{
			Base:           base,
			AttemptTimeout: 5 * time.Second,
			Timeout:        10 * time.Second,
			Rate:           ratelimit.PerSecond(1_000_000),
			Burst:          1000,
			MaxConcurrent:  64,
			HedgeDelay:     time.Minute,
		})
		if err != nil {
			b.Fatal(err)
		}
		benchGET(b, tr, srv.URL)
	})
	b.Run("riprap-defaults", func(b *testing.B) {
		base := &http.Transport{MaxIdleConnsPerHost: 4}
		defer base.CloseIdleConnections()
		tr, err := httpx.NewTransport(httpx.TransportConfig{Base: base})
		if err != nil {
			b.Fatal(err)
		}
		benchGET(b, tr, srv.URL)
	})
}

// BenchmarkTransportOverhead isolates what the transport adds to a
// request from the noise of a network: the base answers from memory.
// Its riprap-minus-bare difference, over BenchmarkTransportGET's bare
// figure, is the transport's share of a loopback GET.
func BenchmarkTransportOverhead(b *testing.B) {
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{},
			Body: io.NopCloser(strings.NewReader("0.9215")), Request: r}, nil
	})
	b.Run("bare", func(b *testing.B) { benchRoundTrip(b, base) })
	b.Run("riprap", func(b *testing.B) {
		tr, err := httpx.NewTransport(httpx.TransportConfig{
			Base:           base,
			AttemptTimeout: 5 * time.Second,
			Timeout:        10 * time.Second,
			Rate:           ratelimit.PerSecond(1_000_000_000),
			Burst:          1000,
			MaxConcurrent:  64,
			HedgeDelay:     time.Minute,
		})
		if err != nil {
			b.Fatal(err)
		}
		benchRoundTrip(b, tr)
	})
	b.Run("riprap-defaults", func(b *testing.B) {
		tr, err := httpx.NewTransport(httpx.TransportConfig{Base: base})
		if err != nil {
			b.Fatal(err)
		}
		benchRoundTrip(b, tr)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func benchRoundTrip(b *testing.B, rt http.RoundTripper) {
	req := httptest.NewRequest(http.MethodGet, "http://fx.test/rate", nil)
	req.RequestURI = ""
	b.ReportAllocs()
	for b.Loop() {
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
}

func benchGET(b *testing.B, rt http.RoundTripper, url string) {
	client := &http.Client{Transport: rt}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
	}
}
