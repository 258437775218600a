package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

func ExampleLimiter() {
	mock := clock.NewMock()
	lim := resilience.Must(ratelimit.NewWithConfig(ratelimit.Config{
		Rate: ratelimit.PerSecond(2), Burst: 3, Name: "bank", Clock: mock,
	}))
	for i := 0; i < 4; i++ {
		fmt.Println("call", i, "allowed:", lim.Allow())
	}
	r := lim.Reserve()
	fmt.Println("reserved, wait", r.Delay())
	mock.Add(500 * time.Millisecond)
	fmt.Println("after 500ms, tokens:", lim.Snapshot().Tokens)
	// Output:
	// call 0 allowed: true
	// call 1 allowed: true
	// call 2 allowed: true
	// call 3 allowed: false
	// reserved, wait 500ms
	// after 500ms, tokens: 0
}

func ExampleNewPolicy() {
	mock := clock.NewMock()
	lim := resilience.Must(ratelimit.NewWithConfig(ratelimit.Config{
		Rate: ratelimit.Every(time.Second), Burst: 1, Name: "bank", Clock: mock,
	}))
	policy := resilience.Must(ratelimit.NewPolicy[string](lim, 0)) // reject at once
	charge := policy.Wrap(func(context.Context) (string, error) { return "charged", nil })

	for i := 0; i < 2; i++ {
		receipt, err := charge(context.Background())
		if resilience.IsRejected(err) {
			wait, _ := resilience.RetryAfter(err)
			fmt.Println("not attempted, safe to retry in", wait, "- limited:", errors.Is(err, ratelimit.ErrLimited))
			continue
		}
		fmt.Println(receipt)
	}
	// Output:
	// charged
	// not attempted, safe to retry in 1s - limited: true
}

func ExampleKeyed() {
	mock := clock.NewMock()
	perMerchant := resilience.Must(ratelimit.NewKeyed(ratelimit.KeyedConfig{
		Rate: ratelimit.Per(10, time.Minute), Burst: 2, MaxKeys: 10_000, Clock: mock,
	}))
	for _, m := range []string{"acme", "acme", "acme", "globex"} {
		d, err := perMerchant.Take(m, 1)
		fmt.Printf("%s allowed=%v remaining=%d retry-after=%v err=%v\n", m, d.Allowed, d.Remaining, d.RetryAfter, err)
	}
	// Output:
	// acme allowed=true remaining=1 retry-after=0s err=<nil>
	// acme allowed=true remaining=0 retry-after=0s err=<nil>
	// acme allowed=false remaining=0 retry-after=6s err=<nil>
	// globex allowed=true remaining=1 retry-after=0s err=<nil>
}

func ExampleBulkhead() {
	bh := resilience.Must(ratelimit.NewBulkheadWithConfig(ratelimit.BulkheadConfig{
		MaxConcurrent: 2, Name: "ledger",
	}))
	a, _ := bh.TryAcquire()
	b, _ := bh.TryAcquire()
	_, ok := bh.TryAcquire()
	fmt.Println("third admitted:", ok)

	policy := resilience.Must(ratelimit.NewBulkheadPolicy[int](bh))
	_, err := policy.Wrap(func(context.Context) (int, error) { return 1, nil })(context.Background())
	fmt.Println(err, "| rejected:", resilience.IsRejected(err))

	a.Release()
	b.Release()
	s := bh.Snapshot()
	fmt.Printf("in flight %d, rejected %d\n", s.InFlight, s.Rejected)
	// Output:
	// third admitted: false
	// ratelimit: bulkhead full (name "ledger") | rejected: true
	// in flight 0, rejected 2
}

func ExampleMiddleware() {
	perIP := resilience.Must(ratelimit.NewKeyed(ratelimit.KeyedConfig{
		Rate: ratelimit.Every(30 * time.Second), Burst: 1, Clock: clock.NewMock(),
	}))
	mw := resilience.Must(ratelimit.Middleware(perIP, ratelimit.MiddlewareConfig{}))
	api := mw(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") }))

	for i := 0; i < 2; i++ {
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

func ExampleAdaptive() {
	limit := resilience.Must(ratelimit.NewAdaptive(ratelimit.AdaptiveConfig{Initial: 8, BackoffPercent: 50, Name: "bank"}))
	policy := resilience.Must(ratelimit.NewAdaptivePolicy[string](limit, nil))
	transfer := policy.Wrap(func(context.Context) (string, error) { return "", errors.New("bank: 502") })
	for i := 0; i < 3; i++ {
		_, _ = transfer(context.Background())
		fmt.Println("limit after failure", i+1, "=", limit.Snapshot().Limit)
	}
	// Output:
	// limit after failure 1 = 4
	// limit after failure 2 = 2
	// limit after failure 3 = 1
}
