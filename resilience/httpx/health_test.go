package httpx_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/httpx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errBankDown = errors.New("bank: connection refused")

type response struct {
	code   int
	header http.Header
	body   []byte
}

func fetch(t *testing.T, method, url string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{resp.StatusCode, resp.Header, body}
}

func report(t *testing.T, r response) httpx.HealthReport {
	t.Helper()
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	var rep httpx.HealthReport
	require.NoError(t, json.Unmarshal(r.body, &rep))
	return rep
}

func newBreaker(t *testing.T, name string) *breaker.Breaker {
	t.Helper()
	b, err := breaker.New(breaker.Config{Name: name})
	require.NoError(t, err)
	return b
}

func TestHealthHandlerReadiness(t *testing.T) {
	var bankDown atomic.Bool
	bankDown.Store(true)
	c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1},
		health.Target{Name: "bank", Critical: true, Probe: func(context.Context) error {
			if bankDown.Load() {
				return errBankDown
			}
			return nil
		}},
		health.Target{Name: "log", Probe: func(context.Context) error { return errBankDown }})
	require.NoError(t, err)
	srv := httptest.NewServer(httpx.HealthHandler(c, nil))
	defer srv.Close()

	r := fetch(t, http.MethodGet, srv.URL)
	assert.Equal(t, http.StatusServiceUnavailable, r.code, "a critical target of unknown health is not ready")
	assert.False(t, report(t, r).Ready)

	_, _ = c.Probe(context.Background(), "log") // non-critical: does not matter
	bankDown.Store(false)
	_, _ = c.Probe(context.Background(), "bank")
	r = fetch(t, http.MethodGet, srv.URL)
	assert.Equal(t, http.StatusOK, r.code)
	rep := report(t, r)
	assert.True(t, rep.Ready)
	require.Len(t, rep.Targets, 2)
	assert.Equal(t, health.Healthy, rep.Targets[0].Status)
	assert.Equal(t, health.Unhealthy, rep.Targets[1].Status)
	assert.Equal(t, "bank: connection refused", rep.Targets[1].LastError)
	assert.Equal(t, []breaker.Snapshot{}, rep.Breakers, "no breakers: an empty list, not null")

	r = fetch(t, http.MethodHead, srv.URL)
	assert.Equal(t, http.StatusOK, r.code)
	assert.Empty(t, r.body)
	r = fetch(t, http.MethodPost, srv.URL)
	assert.Equal(t, http.StatusMethodNotAllowed, r.code)
	assert.Equal(t, "GET, HEAD", r.header.Get("Allow"))
}

// The report lists every breaker the program has: the registry's in name
// order, then extra ones, each once.
func TestHealthHandlerListsEveryBreaker(t *testing.T) {
	var reg breaker.Registry
	fx, err := reg.GetOrCreate("fx", breaker.Config{})
	require.NoError(t, err)
	bank := newBreaker(t, "bank")
	require.NoError(t, reg.Register(bank))
	log := newBreaker(t, "log")
	c, err := health.New(health.Config{Interval: time.Second},
		health.Target{Name: "bank", Probe: func(context.Context) error { return nil }})
	require.NoError(t, err)
	srv := httptest.NewServer(httpx.HealthHandler(c, &reg, log, nil, fx, log))
	defer srv.Close()

	rep := report(t, fetch(t, http.MethodGet, srv.URL))
	var names []string
	for _, s := range rep.Breakers {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"bank", "fx", "log"}, names)
	assert.True(t, rep.Ready, "no critical target")
}

func TestHealthHandlerWithoutAChecker(t *testing.T) {
	rec := httptest.NewRecorder()
	httpx.HealthHandler(nil, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"ready": true, "targets": [], "breakers": []}`, rec.Body.String())
}

// Liveness never depends on a dependency: the bank being down is no reason
// to restart the gateway.
func TestLivenessHandlerIgnoresDependencies(t *testing.T) {
	c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1},
		health.Target{Name: "bank", Critical: true, Probe: func(context.Context) error { return errBankDown }})
	require.NoError(t, err)
	_, _ = c.Probe(context.Background(), "bank")
	require.False(t, c.Ready())
	srv := httptest.NewServer(httpx.LivenessHandler())
	defer srv.Close()
	r := fetch(t, http.MethodGet, srv.URL)
	assert.Equal(t, http.StatusOK, r.code)
	assert.JSONEq(t, `{"live": true}`, string(r.body))
	assert.Equal(t, http.StatusMethodNotAllowed, fetch(t, http.MethodDelete, srv.URL).code)
}

func ExampleHealthHandler() {
	c, _ := health.New(health.Config{Interval: time.Minute, Clock: clock.NewMock()},
		health.Target{Name: "bank", Critical: true, Probe: func(context.Context) error { return nil }})
	var reg breaker.Registry
	_, _ = reg.GetOrCreate("bank", breaker.Config{})
	fx, _ := breaker.New(breaker.Config{Name: "fx"}) // not in the registry
	mux := http.NewServeMux()
	mux.Handle("GET /readyz", httpx.HealthHandler(c, &reg, fx))
	mux.Handle("GET /livez", httpx.LivenessHandler())

	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	fmt.Println(get("/readyz").Code, "before the first probe;", "live:", get("/livez").Code)
	_, _ = c.Probe(context.Background(), "bank")
	var rep httpx.HealthReport
	_ = json.Unmarshal(get("/readyz").Body.Bytes(), &rep)
	fmt.Println(rep.Ready, rep.Targets[0].Name, rep.Targets[0].Status)
	for _, b := range rep.Breakers {
		fmt.Println(b.Name, b.State)
	}
	// Output:
	// 503 before the first probe; live: 200
	// true bank healthy
	// bank closed
	// fx closed
}
