package httpx_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/hedge"
	"github.com/riprap-go/riprap/resilience/httpx"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// everything is the transport with every policy on: breaker, retry with
// a budget, attempt timeout, overall timeout, rate limit, concurrency
// limit, and hedging armed but never firing. A request that succeeds
// goes through all of them.
func everything(base http.RoundTripper) httpx.TransportConfig {
	budget, err := backoff.NewBudget(backoff.BudgetConfig{})
	if err != nil {
		panic(err)
	}
	return httpx.TransportConfig{
		Base:           base,
		AttemptTimeout: 5 * time.Second,
		Timeout:        10 * time.Second,
		Budget:         budget,
		Rate:           ratelimit.PerSecond(1_000_000_000),
		Burst:          1000,
		MaxConcurrent:  64,
		HedgeDelay:     time.Minute,
	}
}

// loopback starts a server answering a GET with a short body.
func loopback(b *testing.B) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "0.9215")
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

// BenchmarkTransportGET sends a GET to a loopback server through a bare
// http.Transport and through the riprap transport over an identical one,
// with every policy on ([everything]) and with the defaults (breaker and
// retry). The difference in allocs/op is what riprap adds to a request
// that succeeds; for time, see BenchmarkTransportGETLatency, which
// compares the two on the same load.
//
//	go test -run '^$' -bench TransportGET -count 6 ./resilience/httpx/
func BenchmarkTransportGET(b *testing.B) {
	url := loopback(b)
	b.Run("bare", func(b *testing.B) {
		base := &http.Transport{MaxIdleConnsPerHost: 4}
		defer base.CloseIdleConnections()
		benchGET(b, base, url)
	})
	b.Run("riprap", func(b *testing.B) {
		base := &http.Transport{MaxIdleConnsPerHost: 4}
		defer base.CloseIdleConnections()
		tr, err := httpx.NewTransport(everything(base))
		if err != nil {
			b.Fatal(err)
		}
		benchGET(b, tr, url)
	})
	b.Run("riprap-defaults", func(b *testing.B) {
		base := &http.Transport{MaxIdleConnsPerHost: 4}
		defer base.CloseIdleConnections()
		tr, err := httpx.NewTransport(httpx.TransportConfig{Base: base})
		if err != nil {
			b.Fatal(err)
		}
		benchGET(b, tr, url)
	})
}

// BenchmarkTransportGETLatency measures the latency of each GET to one
// loopback server, alternating between a bare http.Client and one whose
// transport is riprap's, over identical http.Transports: the two share
// the machine's load request by request, which matters on a busy
// machine, where separate runs would compare two different loads. Each
// iteration sends one request of each, the first of the pair
// alternating. It reports the median latency of each (bare-p50-ns,
// riprap-p50-ns), their ratio as overhead-% (the goal is at most 5), and
// the 90th percentiles. Sub-benchmarks: every policy on ([everything]);
// the same against a bare client with http.Client.Timeout, which pays for
// a per-request deadline as the transport's Timeout does; every policy
// but hedging; the defaults (breaker and retry); and, as a floor, the
// policies of [everything] in a pipeline of their own under a
// per-request deadline, without the transport (see floorPolicies).
//
//	go test -run '^$' -bench TransportGETLatency -benchtime 20000x -count 6 ./resilience/httpx/ | benchstat -
func BenchmarkTransportGETLatency(b *testing.B) {
	url := loopback(b)
	transport := func(config func(http.RoundTripper) httpx.TransportConfig) func(*testing.B, http.RoundTripper) http.RoundTripper {
		return func(b *testing.B, base http.RoundTripper) http.RoundTripper {
			tr, err := httpx.NewTransport(config(base))
			require.NoError(b, err)
			return tr
		}
	}
	b.Run("everything", func(b *testing.B) {
		benchLatency(b, url, 0, transport(everything))
	})
	// A bare client with http.Client.Timeout pays for a deadline on every
	// request as the transport's Timeout does: this isolates the rest.
	b.Run("everything-vs-bare-with-timeout", func(b *testing.B) {
		benchLatency(b, url, 10*time.Second, transport(everything))
	})
	b.Run("everything-but-hedging", func(b *testing.B) {
		benchLatency(b, url, 0, transport(func(base http.RoundTripper) httpx.TransportConfig {
			cfg := everything(base)
			cfg.HedgeDelay = 0
			return cfg
		}))
	})
	b.Run("defaults", func(b *testing.B) {
		benchLatency(b, url, 0, transport(func(base http.RoundTripper) httpx.TransportConfig {
			return httpx.TransportConfig{Base: base}
		}))
	})
	b.Run("floor-policies-deadline", func(b *testing.B) {
		benchLatency(b, url, 0, func(b *testing.B, base http.RoundTripper) http.RoundTripper {
			return floorPolicies(b, base, 10*time.Second)
		})
	})
}

// benchLatency runs the comparison for one transport, made by wrap
// around its base; bareTimeout is the bare client's http.Client.Timeout.
func benchLatency(b *testing.B, url string, bareTimeout time.Duration, wrap func(*testing.B, http.RoundTripper) http.RoundTripper) {
	bareBase := &http.Transport{MaxIdleConnsPerHost: 4}
	defer bareBase.CloseIdleConnections()
	riprapBase := &http.Transport{MaxIdleConnsPerHost: 4}
	defer riprapBase.CloseIdleConnections()
	clients := [2]*http.Client{{Transport: bareBase, Timeout: bareTimeout}, {Transport: wrap(b, riprapBase)}}
	var lat [2][]time.Duration
	for _, c := range clients { // a connection each, before timing
		benchGet(b, c, url)
	}
	i := 0
	for b.Loop() {
		for k := range 2 {
			which := (i + k) % 2
			start := time.Now()
			benchGet(b, clients[which], url)
			lat[which] = append(lat[which], time.Since(start))
		}
		i++
	}
	bare, riprap := quantile(lat[0], 0.5), quantile(lat[1], 0.5)
	b.ReportMetric(float64(bare), "bare-p50-ns")
	b.ReportMetric(float64(riprap), "riprap-p50-ns")
	b.ReportMetric(100*(float64(riprap)/float64(bare)-1), "overhead-%")
	b.ReportMetric(float64(quantile(lat[0], 0.9)), "bare-p90-ns")
	b.ReportMetric(float64(quantile(lat[1], 0.9)), "riprap-p90-ns")
}

// quantile returns the q-quantile of ds (nearest rank), sorting ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(q*float64(len(ds))))]
}

// BenchmarkTransportOverhead isolates what the transport adds to a
// request from the noise of a network: the base answers from memory.
// Its riprap-minus-bare difference, over BenchmarkTransportGET's bare
// figure, is the transport's share of a loopback GET.
//
// The floor sub-benchmarks run the policies of [everything] (retry with
// a budget, hedger, rate limiter, bulkhead, breaker), built by their own
// packages, in a resilience.Pipeline around the same base, without the
// transport: "floor-policies" on a context that never ends,
// "floor-policies-deadline" on a fresh context.WithTimeout per request,
// which is what any per-request deadline costs them. riprap minus
// floor-policies-deadline is what the transport itself adds.
//
//	go test -run '^$' -bench TransportOverhead -count 8 ./resilience/httpx/ | benchstat -
func BenchmarkTransportOverhead(b *testing.B) {
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{},
			Body: io.NopCloser(strings.NewReader("0.9215")), Request: r}, nil
	})
	b.Run("bare", func(b *testing.B) { benchRoundTrip(b, base) })
	b.Run("floor-policies", func(b *testing.B) { benchRoundTrip(b, floorPolicies(b, base, 0)) })
	b.Run("floor-policies-deadline", func(b *testing.B) { benchRoundTrip(b, floorPolicies(b, base, time.Minute)) })
	b.Run("riprap", func(b *testing.B) {
		tr, err := httpx.NewTransport(everything(base))
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

// floorPolicies runs the policies of [everything] around base, in a
// pipeline of their own, each request under a deadline of d (0: none).
// It does the least any such transport must: the request carries the
// deadline, and the deadline is released when the body is closed. It
// has no attempt context, so a hedge could not cancel its loser; it is a
// floor, not a transport.
func floorPolicies(b *testing.B, base http.RoundTripper, d time.Duration) http.RoundTripper {
	budget, err := backoff.NewBudget(backoff.BudgetConfig{})
	require.NoError(b, err)
	retry, err := backoff.NewRetry(backoff.RetryConfig{Budget: budget})
	require.NoError(b, err)
	h, err := hedge.New(hedge.Config{Delay: time.Minute, Budget: budget})
	require.NoError(b, err)
	limiter, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.PerSecond(1_000_000_000), Burst: 1000})
	require.NoError(b, err)
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 64})
	require.NoError(b, err)
	br, err := breaker.New(breaker.Config{})
	require.NoError(b, err)
	p := resilience.NewPipeline[*http.Response](retry, h, limiter, bh, br)
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if d <= 0 {
			return p.Execute(r.Context(), func(context.Context) (*http.Response, error) { return base.RoundTrip(r) })
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		r = r.WithContext(ctx)
		resp, err := p.Execute(ctx, func(context.Context) (*http.Response, error) { return base.RoundTrip(r) })
		if err != nil {
			cancel()
			return nil, err
		}
		resp.Body = &cancelOnClose{resp.Body, cancel}
		return resp, nil
	})
}

// cancelOnClose releases a request's deadline once its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
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
		benchGet(b, client, url)
	}
}

// benchGet sends a GET and reads the response to its end.
func benchGet(b *testing.B, client *http.Client, url string) {
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
