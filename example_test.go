package riprap_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// The recommended order, outside in: rate limit, retry, breaker, timeout.
// The dependency fails twice; the retry hides that from the caller, and the
// breaker, judging each attempt, counts two failures and a success.
func Example() {
	failures := 2
	fetchRate := func(_ context.Context, pair string) (string, error) {
		if failures > 0 {
			failures--
			return "", errors.New("fx: 502 Bad Gateway")
		}
		return pair + " 1.0842", nil
	}

	// Configs are validated once, at start-up: the only errors to check.
	limiter, err := ratelimit.New(ratelimit.PerSecond(100), 10)
	if err != nil {
		panic(err)
	}
	fx, err := breaker.New(breaker.Config{Name: "fx"})
	if err != nil {
		panic(err)
	}
	retry, err := backoff.NewRetry(backoff.RetryConfig{MaxAttempts: 3, Strategy: backoff.Constant(0)})
	if err != nil {
		panic(err)
	}
	rates := resilience.NewPipeline[string](limiter, retry, fx, timeout.After(time.Second))

	// Each call passes its own arguments in a fresh closure.
	rate, err := rates.Execute(context.Background(), func(ctx context.Context) (string, error) {
		return fetchRate(ctx, "EUR/USD")
	})
	fmt.Println(rate, err)
	s := fx.Snapshot()
	fmt.Println(s.State, "successes:", s.Successes, "failures:", s.Failures)
	// Output:
	// EUR/USD 1.0842 <nil>
	// closed successes: 1 failures: 2
}
