package httpx_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/httpx"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

func TestTransportBreakerPerHost(t *testing.T) {
	trNoGoroutineLeak(t)
	down := &trScript{statuses: []int{500}}
	up := &trScript{statuses: []int{200}}
	srvDown, srvUp := trServer(t, down.ServeHTTP), trServer(t, up.ServeHTTP)
	client, tr, _ := trClient(t, httpx.TransportConfig{MaxAttempts: 1,
		Breaker: breaker.Config{ConsecutiveFailures: 2, OpenWait: time.Minute}})
	read := trReader(t)

	for range 2 {
		code, _ := read(client.Get(srvDown.URL))
		require.Equal(t, 500, code)
	}
	_, err := client.Get(srvDown.URL)
	require.Error(t, err)
	var uerr *url.Error
	require.ErrorAs(t, err, &uerr, "http.Client wraps the rejection")
	assert.ErrorIs(t, err, breaker.ErrOpen)
	assert.True(t, resilience.IsRejected(err))
	wait, ok := resilience.RetryAfter(err)
	assert.True(t, ok)
	assert.Greater(t, wait, 50*time.Second)
	assert.Len(t, down.seen(), 2, "a refused request never reaches the server")

	code, _ := read(client.Get(srvUp.URL))
	assert.Equal(t, 200, code, "the other host has a breaker of its own")
	brDown, _ := tr.Breaker(trHost(t, srvDown))
	brUp, _ := tr.Breaker(trHost(t, srvUp))
	assert.Equal(t, breaker.Open, brDown.State())
	assert.Equal(t, breaker.Closed, brUp.State())
	assert.Equal(t, 2, tr.Breakers().Len())
}

// A breaker that opens during the retries ends them at once: the caller
// gets the rejection and its Retry-After instead of waiting for a probe.
// (The retry's clock is a mock nobody advances: a wait would never end.)
func TestTransportDoesNotWaitForAnOpenBreaker(t *testing.T) {
	script := &trScript{statuses: []int{503}}
	srv := trServer(t, script.ServeHTTP)
	client, _, _ := trClient(t, httpx.TransportConfig{Clock: clock.NewMock(),
		Breaker: breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Second}})
	got := make(chan trResult, 1)
	go func() { got <- trGet(client, srv.URL) }()

	err := trWait(t, got, "the response").err
	require.ErrorIs(t, err, breaker.ErrOpen)
	wait, _ := resilience.RetryAfter(err)
	assert.Equal(t, time.Second, wait)
	assert.Len(t, script.seen(), 1)
}

func TestTransportRetryAfterHoldsTheBreakerOpen(t *testing.T) {
	mock := clock.NewMock()
	mock.Set(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	cases := []struct {
		name       string
		retryAfter string
		want       time.Duration
	}{
		{"seconds", "7", 7 * time.Second},
		{"HTTP-date", mock.Now().Add(9 * time.Second).Format(http.TimeFormat), 9 * time.Second},
		{"capped at MaxRetryAfter", "3600", 20 * time.Second},
		{"garbage leaves the breaker's own wait", "soon", 5 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			script := &trScript{statuses: []int{503}, header: http.Header{"Retry-After": {tc.retryAfter}}}
			srv := trServer(t, script.ServeHTTP)
			client, _, _ := trClient(t, httpx.TransportConfig{MaxAttempts: 1, MaxRetryAfter: 20 * time.Second,
				Clock: mock, Breaker: breaker.Config{ConsecutiveFailures: 1, OpenWait: 5 * time.Second}})
			code, _ := trReader(t)(client.Get(srv.URL))
			require.Equal(t, 503, code)

			_, err := client.Get(srv.URL)
			require.ErrorIs(t, err, breaker.ErrOpen)
			wait, _ := resilience.RetryAfter(err)
			assert.Equal(t, tc.want, wait)
		})
	}
}

// The wait before a retry is the server's Retry-After, capped: with
// MaxRetryAfter at 1ms, an hour's Retry-After costs 1ms.
func TestTransportRetryWaitsTheCappedRetryAfter(t *testing.T) {
	script := &trScript{statuses: []int{429, 200}, header: http.Header{"Retry-After": {"3600"}}}
	srv := trServer(t, script.ServeHTTP)
	var delays []time.Duration
	listen := resilience.OnKinds(func(e resilience.Event) { delays = append(delays, e.Delay) }, resilience.EventRetry)
	client, _, _ := trClient(t, httpx.TransportConfig{MaxRetryAfter: time.Millisecond,
		Listeners: resilience.Listeners{listen}})

	code, _ := trReader(t)(client.Get(srv.URL))
	assert.Equal(t, 200, code)
	assert.Equal(t, []time.Duration{time.Millisecond}, delays)
}

func TestTransportRetryEventCarriesTheStatus(t *testing.T) {
	script := &trScript{statuses: []int{503, 200}, header: http.Header{"Retry-After": {"0"}}}
	srv := trServer(t, script.ServeHTTP)
	var errs []error
	listen := resilience.OnKinds(func(e resilience.Event) { errs = append(errs, e.Err) }, resilience.EventRetry)
	client, _, _ := trClient(t, httpx.TransportConfig{Listeners: resilience.Listeners{listen}})

	code, _ := trReader(t)(client.Get(srv.URL))
	require.Equal(t, 200, code)
	require.Len(t, errs, 1)
	var se *httpx.StatusError
	require.ErrorAs(t, errs[0], &se)
	assert.Equal(t, 503, se.StatusCode)
	assert.Equal(t, "httpx: 503 Service Unavailable", se.Error())
}

func TestTransportRateLimitPerHost(t *testing.T) {
	a, b := trServer(t, (&trScript{statuses: []int{200}}).ServeHTTP), trServer(t, (&trScript{statuses: []int{200}}).ServeHTTP)
	mock := clock.NewMock()
	client, _, _ := trClient(t, httpx.TransportConfig{Rate: ratelimit.Every(time.Minute), Burst: 1, Clock: mock})
	read := trReader(t)

	code, _ := read(client.Get(a.URL))
	require.Equal(t, 200, code)
	_, err := client.Get(a.URL)
	require.ErrorIs(t, err, ratelimit.ErrLimited)
	wait, ok := resilience.RetryAfter(err)
	assert.True(t, ok)
	assert.Equal(t, time.Minute, wait)
	code, _ = read(client.Get(b.URL))
	assert.Equal(t, 200, code, "each host has its own limit")
}

func TestTransportConcurrencyLimitPerHost(t *testing.T) {
	trNoGoroutineLeak(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	srv := trServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(arrived)
			<-release
		}
	})
	client, _, _ := trClient(t, httpx.TransportConfig{MaxConcurrent: 1})
	done := make(chan error, 1)
	go func() {
		resp, err := client.Get(srv.URL + "/slow")
		if err == nil {
			err = resp.Body.Close()
		}
		done <- err
	}()
	<-arrived

	_, err := client.Get(srv.URL + "/fast")
	require.ErrorIs(t, err, bulkhead.ErrFull)
	assert.True(t, resilience.IsRejected(err))
	close(release)
	require.NoError(t, trWait(t, done, "the response"))
	code, _ := trReader(t)(client.Get(srv.URL + "/fast"))
	assert.Equal(t, 200, code, "the slot is free again")
}

func TestTransportKeyAndMaxKeys(t *testing.T) {
	a, b := trServer(t, (&trScript{statuses: []int{200}}).ServeHTTP), trServer(t, (&trScript{statuses: []int{200}}).ServeHTTP)
	client, tr, _ := trClient(t, httpx.TransportConfig{MaxKeys: 1})
	code, _ := trReader(t)(client.Get(a.URL))
	require.Equal(t, 200, code)

	_, err := client.Get(b.URL)
	require.ErrorIs(t, err, httpx.ErrTooManyKeys)
	assert.True(t, resilience.IsRejected(err))
	_, ok := tr.Breaker(trHost(t, b))
	assert.False(t, ok, "no breaker for the key refused")

	client, tr, _ = trClient(t, httpx.TransportConfig{Key: func(*http.Request) string { return "backend" }})
	trReader(t)(client.Get(a.URL))
	trReader(t)(client.Get(b.URL))
	br, ok := tr.Breaker("backend")
	require.True(t, ok)
	assert.Equal(t, uint64(2), br.Snapshot().Successes, "one key, one breaker for both servers")
}

func TestTransportSharesARegistry(t *testing.T) {
	srv := trServer(t, (&trScript{statuses: []int{200}}).ServeHTTP)
	reg := new(breaker.Registry)
	_, err := reg.GetOrCreate(trHost(t, srv), breaker.Config{ConsecutiveFailures: 9})
	require.NoError(t, err)

	client, _, _ := trClient(t, httpx.TransportConfig{Breakers: reg})
	_, err = client.Get(srv.URL)
	require.ErrorIs(t, err, breaker.ErrConfigMismatch, "never silently a breaker other than the one configured")

	client, tr, _ := trClient(t, httpx.TransportConfig{Breakers: reg, Breaker: breaker.Config{ConsecutiveFailures: 9}})
	trReader(t)(client.Get(srv.URL))
	assert.Same(t, reg, tr.Breakers())
	br, _ := reg.Get(trHost(t, srv))
	assert.Equal(t, uint64(1), br.Snapshot().Successes)
}

func TestNewTransportRefusesBadConfig(t *testing.T) {
	cases := []struct {
		name      string
		cfg       httpx.TransportConfig
		component string
		field     string
	}{
		{"MaxKeys", httpx.TransportConfig{MaxKeys: -1}, "httpx", "MaxKeys"},
		{"AttemptTimeout", httpx.TransportConfig{AttemptTimeout: -time.Second}, "httpx", "AttemptTimeout"},
		{"Timeout", httpx.TransportConfig{Timeout: -time.Second}, "httpx", "Timeout"},
		{"MaxRetryAfter", httpx.TransportConfig{MaxRetryAfter: -1}, "httpx", "MaxRetryAfter"},
		{"HedgeDelay", httpx.TransportConfig{HedgeDelay: -1}, "httpx", "HedgeDelay"},
		{"MaxConcurrent", httpx.TransportConfig{MaxConcurrent: -1}, "httpx", "MaxConcurrent"},
		{"FailureStatuses", httpx.TransportConfig{FailureStatuses: []int{503, 600}}, "httpx", "FailureStatuses"},
		{"MaxAttempts", httpx.TransportConfig{MaxAttempts: -1}, "backoff", "MaxAttempts"},
		{"Breaker", httpx.TransportConfig{Breaker: breaker.Config{FailureRate: 2}}, "breaker", "FailureRate"},
		{"Burst", httpx.TransportConfig{Rate: ratelimit.PerSecond(1), Burst: -1}, "ratelimit", "Burst"},
		{"HedgeQuantile", httpx.TransportConfig{HedgeDelay: time.Second, HedgeQuantile: 1}, "hedge", "Quantile"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := httpx.NewTransport(tc.cfg)
			var ce *resilience.ConfigError
			require.True(t, errors.As(err, &ce), "got %v", err)
			assert.Equal(t, tc.component, ce.Component)
			assert.Equal(t, tc.field, ce.Field)
		})
	}
}

func TestStatusErrorMadeByHand(t *testing.T) {
	err := &httpx.StatusError{StatusCode: 599, Wait: 2 * time.Second}
	assert.Equal(t, "httpx: 599 (retry after 2s)", err.Error())
	assert.False(t, errors.Is(err, breaker.ErrOpen), "walks its chain without a panic")
	wait, ok := resilience.RetryAfter(err)
	assert.True(t, ok)
	assert.Equal(t, 2*time.Second, wait)
}
