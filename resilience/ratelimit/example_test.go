package ratelimit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// The raw token API, outside a pipeline.
func ExampleLimiter() {
	mock := clock.NewMock()
	lim, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.PerSecond(2), Burst: 3, Name: "bank", Clock: mock})
	if err != nil {
		panic(err) // only a bad Config fails
	}
	for i := range 4 {
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

// A limiter is a guard: it goes into a pipeline of any result type as it
// is. A refused call is not attempted and says when to try again.
func ExampleLimiter_Guard() {
	lim, err := ratelimit.NewWithConfig(ratelimit.Config{
		Rate: ratelimit.Every(time.Second), Name: "bank", Clock: clock.NewMock(), // Burst 0 means 1
	})
	if err != nil {
		panic(err)
	}
	charges := resilience.NewPipeline[string](lim)
	for range 2 {
		receipt, err := charges.Execute(context.Background(), func(context.Context) (string, error) { return "charged", nil })
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

func ExampleKeyed_Take() {
	perMerchant, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{
		Rate: ratelimit.Per(10, time.Minute), Burst: 2, MaxKeys: 10_000, Clock: clock.NewMock(),
	})
	if err != nil {
		panic(err)
	}
	for _, m := range []string{"acme", "acme", "acme", "globex"} {
		d, err := perMerchant.Take(m, 1)
		fmt.Printf("%s allowed=%v remaining=%d retry-after=%v err=%v\n", m, d.Allowed, d.Remaining, d.RetryAfter, err)
	}
	d, _ := perMerchant.Take("acme", 0) // a peek: takes nothing
	fmt.Printf("peek acme remaining=%d reset=%v\n", d.Remaining, d.Reset)
	// Output:
	// acme allowed=true remaining=1 retry-after=0s err=<nil>
	// acme allowed=true remaining=0 retry-after=0s err=<nil>
	// acme allowed=false remaining=0 retry-after=6s err=<nil>
	// globex allowed=true remaining=1 retry-after=0s err=<nil>
	// peek acme remaining=0 reset=12s
}

// Admit limits by a key that is an argument of the call: ask before running
// the pipeline, which stays keyless. No context value is involved.
func ExampleKeyed_Admit() {
	perMerchant, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Per(1, time.Minute), Clock: clock.NewMock()})
	if err != nil {
		panic(err)
	}
	transfers := resilience.NewPipeline[string]() // breaker, retry, timeout…
	pay := func(ctx context.Context, merchant string) (string, error) {
		if err := perMerchant.Admit(merchant); err != nil {
			return "", err
		}
		return transfers.Execute(ctx, func(context.Context) (string, error) { return "paid " + merchant, nil })
	}
	for _, m := range []string{"acme", "acme", "globex"} {
		receipt, err := pay(context.Background(), m)
		fmt.Printf("%s: %q %v\n", m, receipt, err)
	}
	// Output:
	// acme: "paid acme" <nil>
	// acme: "" ratelimit: rate limited (retry after 1m0s)
	// globex: "paid globex" <nil>
}

// caller is the authenticated client that middleware stored in the
// request's context: who is calling, not an argument of the call.
type caller struct{}

// ByKey puts a keyed limiter inside a pipeline, keyed by request-scoped
// identity taken from the context.
func ExampleByKey() {
	perClient, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Per(1, time.Minute), Name: "per-client",
		Clock: clock.NewMock()})
	if err != nil {
		panic(err)
	}
	byClient := ratelimit.ByKey(perClient, func(ctx context.Context) string {
		id, _ := ctx.Value(caller{}).(string)
		return id
	})
	quotes := resilience.NewPipeline[float64](byClient)
	for _, id := range []string{"app-1", "app-1", "app-2"} {
		ctx := context.WithValue(context.Background(), caller{}, id)
		rate, err := quotes.Execute(ctx, func(context.Context) (float64, error) { return 1.0842, nil })
		fmt.Println(id, rate, err)
	}
	// Output:
	// app-1 1.0842 <nil>
	// app-1 0 ratelimit: rate limited (name "per-client", retry after 1m0s)
	// app-2 1.0842 <nil>
}

func ExampleParseRate() {
	r, err := ratelimit.ParseRate("100/s")
	fmt.Println(r, r.Interval(), err)
	var cfg struct {
		Rate ratelimit.Rate `json:"rate"`
	}
	err = json.Unmarshal([]byte(`{"rate":"1/250ms"}`), &cfg)
	fmt.Println(cfg.Rate, err)
	_, err = ratelimit.ParseRate("0/s")
	fmt.Println(err)
	// Output:
	// 100/s 10ms <nil>
	// 1/250ms <nil>
	// ratelimit: rate "0/s": count and period must be positive
}

func ExampleLimiter_Snapshot() {
	lim, _ := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.PerSecond(100), Burst: 10, Name: "bank", Clock: clock.NewMock()})
	lim.AllowN(4)
	b, _ := json.Marshal(lim.Snapshot())
	fmt.Println(string(b))
	// Output:
	// {"name":"bank","rate":"100/s","burst":10,"max_wait":"0s","tokens":6,"full_in":"40ms","full_in_seconds":0.04,"rejected":0}
}
