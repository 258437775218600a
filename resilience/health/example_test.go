package health_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/health"
)

func ExampleNew() {
	bankUp := false
	c, err := health.New(health.Config{Interval: 10 * time.Second, FailuresToUnhealthy: 2, SuccessesToHealthy: 2},
		health.Target{Name: "bank", Critical: true, Probe: func(context.Context) error {
			if !bankUp {
				return errors.New("bank: connection refused")
			}
			return nil
		}})
	if err != nil {
		panic(err)
	}
	// Start runs probes on the schedule; here probes are run by hand.
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		st, _ := c.Probe(ctx, "bank")
		fmt.Println("probe failed:", st)
	}
	bankUp = true
	for i := 0; i < 2; i++ {
		st, _ := c.Probe(ctx, "bank")
		fmt.Println("probe passed:", st)
	}
	fmt.Println("ready:", c.Ready())
	// Output:
	// probe failed: unknown
	// probe failed: unhealthy
	// probe passed: unhealthy
	// probe passed: healthy
	// ready: true
}

func ExamplePolicy() {
	c, _ := health.New(health.Config{Interval: time.Minute, FailuresToUnhealthy: 1},
		health.Target{Name: "fx", Probe: func(context.Context) error { return errors.New("fx: 503") }})
	p, _ := health.Policy[string](c, "fx")
	quote := p.Wrap(func(context.Context) (string, error) { return "EUR/USD 1.08", nil })

	fmt.Println(quote(context.Background()))
	_, _ = c.Probe(context.Background(), "fx")
	_, err := quote(context.Background())
	fmt.Println(err, resilience.IsRejected(err), errors.Is(err, health.ErrUnhealthy))
	// Output:
	// EUR/USD 1.08 <nil>
	// health: dependency unhealthy (name "fx") true true
}

func ExampleChecker_Snapshot() {
	c, _ := health.New(health.Config{Interval: time.Minute},
		health.Target{Name: "log", Probe: func(context.Context) error { return nil }})
	_, _ = c.Probe(context.Background(), "log")
	s := c.Snapshot()[0]
	fmt.Println(s.Name, s.Status, s.Probes, s.ConsecutiveSuccesses)
	// Output: log healthy 1 1
}
