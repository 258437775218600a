package health_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
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
	for range 2 {
		st, _ := c.Probe(ctx, "bank")
		fmt.Println("probe failed:", st)
	}
	bankUp = true
	for range 2 {
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

// A gate refuses calls while its target is unhealthy. It is a Guard, so it
// goes into a pipeline of any result type without a type argument.
func ExampleChecker_Gate() {
	c, _ := health.New(health.Config{Interval: time.Minute, FailuresToUnhealthy: 1},
		health.Target{Name: "fx", Probe: func(context.Context) error { return errors.New("fx: 503") }})
	quotes := resilience.NewPipeline[string](c.Gate("fx"))
	quote := func(context.Context) (string, error) { return "EUR/USD 1.08", nil }

	fmt.Println(quotes.Execute(context.Background(), quote))
	_, _ = c.Probe(context.Background(), "fx")
	_, err := quotes.Execute(context.Background(), quote)
	fmt.Println(err, resilience.IsRejected(err), errors.Is(err, health.ErrUnhealthy))

	// A name the checker does not have: every call fails, none reaches fx.
	err = resilience.Run(context.Background(), func(context.Context) error { return nil }, c.Gate("fxx"))
	fmt.Println(err)
	// Output:
	// EUR/USD 1.08 <nil>
	// health: dependency unhealthy (name "fx") true true
	// health: unknown target "fxx"
}

func ExampleChecker_Snapshot() {
	c, _ := health.New(health.Config{Interval: time.Minute},
		health.Target{Name: "log", Probe: func(context.Context) error { return nil }})
	_, _ = c.Probe(context.Background(), "log")
	s := c.Snapshot()[0]
	fmt.Println(s.Name, s.Status, s.Probes, s.ConsecutiveSuccesses, s.ProbeTimeout)
	// Output: log healthy 1 1 30s
}

// Give a target the timeout of the calls it protects, and its probes are
// never stricter than those calls: a bank that answers payments in 150ms
// within a 2s call timeout is not declared down by a 125ms probe.
func ExampleTarget_callTimeout() {
	probe := func(context.Context) error { return nil }
	c, _ := health.New(health.Config{Interval: time.Second, UnhealthyInterval: 250 * time.Millisecond},
		health.Target{Name: "bank", Probe: probe, CallTimeout: 2 * time.Second})
	s, _ := c.Lookup("bank")
	fmt.Println("probe timeout:", s.ProbeTimeout)

	_, err := health.New(health.Config{Interval: time.Second, Timeout: 125 * time.Millisecond},
		health.Target{Name: "bank", Probe: probe, CallTimeout: 2 * time.Second})
	var ce *resilience.ConfigError
	fmt.Println(errors.As(err, &ce), ce.Field)
	fmt.Println(err)
	// Output:
	// probe timeout: 2s
	// true Timeout
	// health "bank": Timeout must be at least targets[0].CallTimeout (2s), the timeout of the calls it protects, got 125ms
}

// A breaker bound to a health target is held open while the target is
// unhealthy and goes half-open when it recovers, so real traffic confirms it.
func ExampleBindBreaker() {
	bankUp := false
	c, _ := health.New(health.Config{Interval: 5 * time.Second, FailuresToUnhealthy: 1, SuccessesToHealthy: 1},
		health.Target{Name: "bank", CallTimeout: 2 * time.Second, Probe: func(context.Context) error {
			if !bankUp {
				return errors.New("bank: connection refused")
			}
			return nil
		}})
	b, _ := breaker.New(breaker.Config{Name: "bank"})
	_ = health.BindBreaker(c, "bank", b, health.BindOptions{})

	_, _ = c.Probe(context.Background(), "bank")
	_, err := b.Allow()
	fmt.Println(b.State(), errors.Is(err, breaker.ErrOpen))
	bankUp = true
	_, _ = c.Probe(context.Background(), "bank")
	fmt.Println(b.State())
	// Output:
	// held_open true
	// half_open
}
