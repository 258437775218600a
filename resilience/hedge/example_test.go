package hedge_test

import (
	"context"
	"fmt"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/hedge"
)

// A status lookup is safe to repeat, so its pipeline hedges: when the
// first replica is slow, a second request goes out after 20ms and its
// answer is taken; the slow request is cancelled.
func Example() {
	h, err := hedge.New(hedge.Config{Name: "payment status", Delay: 20 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	lookup := resilience.NewPipeline[string](h)

	replicas := make(chan time.Duration, 2)
	replicas <- time.Second          // the first request hits a stalled replica
	replicas <- 5 * time.Millisecond // the hedge a healthy one
	status, err := lookup.Execute(context.Background(), func(ctx context.Context) (string, error) {
		select {
		case <-time.After(<-replicas):
			return "settled", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	})
	s := h.Snapshot()
	fmt.Println(status, err, "hedges:", s.Hedges, "won by a hedge:", s.HedgeWins)
	// Output:
	// settled <nil> hedges: 1 won by a hedge: 1
}

// The delay can follow the latency of recent calls instead: here the 95th
// percentile, starting from 100ms until 32 calls have been seen.
func ExampleConfig_quantile() {
	h, err := hedge.New(hedge.Config{Name: "quotes", Delay: 100 * time.Millisecond, Quantile: 0.95})
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Snapshot().Delay)
	// Output:
	// 100ms
}
