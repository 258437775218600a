package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/httpx"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// A client whose transport retries a GET through a 503, replays the body
// of a PUT, and sends a POST once. Any http.Client takes the transport.
func ExampleTransport() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if calls.Add(1)%2 == 1 { // every other request fails
			w.Header().Set("Retry-After", "0")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, r.Method)
		if len(body) > 0 {
			fmt.Fprintf(w, " %s", body)
		}
	}))
	defer srv.Close()

	tr, err := httpx.NewTransport(httpx.TransportConfig{
		Backoff:        backoff.Constant(10 * time.Millisecond),
		AttemptTimeout: 2 * time.Second,
	})
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: tr}
	show := func(resp *http.Response, err error) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%d %s (server saw %d)\n", resp.StatusCode, strings.TrimSpace(string(body)), calls.Swap(0))
	}

	show(client.Get(srv.URL))
	req, _ := http.NewRequest(http.MethodPut, srv.URL, strings.NewReader("rate=0.92"))
	show(client.Do(req))
	show(client.Post(srv.URL, "text/plain", strings.NewReader("charge 10 EUR")))
	// Output:
	// 200 GET (server saw 2)
	// 200 PUT rate=0.92 (server saw 2)
	// 503 busy (server saw 1)
}

// Each host has its breaker. Once it opens, requests to that host are
// refused at once with an error that says so and how long to wait, while
// other hosts are served as usual.
func ExampleTransport_breaker() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srv.Close()
	tr, err := httpx.NewTransport(httpx.TransportConfig{
		MaxAttempts: 1,
		Breaker:     breaker.Config{ConsecutiveFailures: 2, OpenWait: 30 * time.Second},
	})
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: tr}
	for range 3 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			wait, _ := resilience.RetryAfter(err)
			fmt.Println("refused:", errors.Is(err, breaker.ErrOpen), resilience.IsRejected(err),
				"retry in", wait.Round(time.Second))
			continue
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// 502
	// 502
	// refused: true true retry in 30s
}

// A handler that overruns its time gets its client a 503; its context
// tells it to stop. This timeout is cooperative: the 503 goes once the
// handler has returned. With timeout.Abandon it would go at the deadline,
// even from a handler that ignores its context.
func ExampleTimeout() {
	to, err := timeout.New(timeout.Config{Name: "api", Timeout: 20 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		fmt.Println("handler:", context.Cause(r.Context()))
	})
	srv := httptest.NewServer(httpx.Timeout(to, httpx.TimeoutConfig{})(slow))
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("client: %d %s", resp.StatusCode, body)
	// Output:
	// handler: timeout: "api" deadline of 20ms exceeded
	// client: 503 request timed out
}

// Behind a load balancer at 10.0.0.0/8, the client is the rightmost
// address in X-Forwarded-For that the balancer did not add; what the
// client wrote itself further left does not count.
func ExampleClientIPBehind() {
	key := httpx.ClientIPBehind(netip.MustParsePrefix("10.0.0.0/8"))
	r := httptest.NewRequest(http.MethodGet, "/pay", nil)
	r.RemoteAddr = "10.0.0.7:41000"
	r.Header.Set("X-Forwarded-For", "192.0.2.66, 203.0.113.7, 10.0.0.3")
	fmt.Println(key(r))

	r.RemoteAddr = "198.51.100.9:5000" // not the balancer: its header is not believed
	fmt.Println(key(r))
	// Output:
	// 203.0.113.7
	// 198.51.100.9
}

// Keys by API key and by route, for a limiter or a load shedder.
func ExampleHeaderKey() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /payments/{id}", func(http.ResponseWriter, *http.Request) {})
	byKey, byRoute := httpx.HeaderKey("X-API-Key"), httpx.RouteKey(mux)

	r := httptest.NewRequest(http.MethodGet, "/payments/p-42", nil)
	r.Header.Set("X-API-Key", "merchant-7")
	fmt.Println(byKey(r))
	fmt.Println(byRoute(r))
	// Output:
	// merchant-7
	// GET /payments/{id}
}

func ExampleParseRetryAfter() {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	fmt.Println(httpx.ParseRetryAfter("120", now))
	fmt.Println(httpx.ParseRetryAfter("Sat, 01 Mar 2025 12:00:30 GMT", now))
	fmt.Println(httpx.ParseRetryAfter("soon", now))
	// Output:
	// 2m0s true
	// 30s true
	// 0s false
}
