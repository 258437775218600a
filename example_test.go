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

// The recommended order, outside in: rate limit, breaker, retry, timeout.
// The dependency fails twice; the retry hides that from the caller, and the
// breaker, judging the whole retried call, sees one success.
func Example() {
	failures := 2
	fetchRate := func(context.Context) (string, error) {
		if failures > 0 {
			failures--
			return "", errors.New("fx: 502 Bad Gateway")
		}
		return "EUR/USD 1.0842", nil
	}

	limiter := resilience.Must(ratelimit.New(ratelimit.PerSecond(100), 10))
	fx := resilience.Must(breaker.New(breaker.Config{Name: "fx"}))
	noWait := resilience.Must(backoff.Constant(0))
	pipeline := resilience.Must(resilience.NewPipeline(
		resilience.Must(ratelimit.NewPolicy[string](limiter, 0)),
		breaker.Policy[string](fx),
		resilience.Must(backoff.NewRetry(backoff.RetryConfig[string]{MaxAttempts: 3, Strategy: noWait})),
		resilience.Must(timeout.New[string](time.Second)),
	))
	getRate := pipeline.Wrap(fetchRate)

	rate, err := getRate(context.Background())
	fmt.Println(rate, err)
	s := fx.Snapshot()
	fmt.Println(s.State, "successes:", s.Successes, "failures:", s.Failures)
	// Output:
	// EUR/USD 1.0842 <nil>
	// closed successes: 1 failures: 0
}
