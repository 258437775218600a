package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/benbjohnson/clock"
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

// A breaker bound to a health target is held open while the target is
// unhealthy and goes half-open when it recovers, so real traffic confirms it.
func ExampleBindBreaker() {
	bankUp := false
	c, _ := health.New(health.Config{Interval: 5 * time.Second, FailuresToUnhealthy: 1, SuccessesToHealthy: 1},
		health.Target{Name: "bank", Probe: func(context.Context) error {
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
	// forced_open true
	// half_open
}

func ExampleHandler() {
	c, _ := health.New(health.Config{Interval: time.Minute, Clock: clock.NewMock()},
		health.Target{Name: "bank", Critical: true, Probe: func(context.Context) error { return nil }})
	var reg breaker.Registry
	_, _ = reg.GetOrCreate("bank", breaker.Config{})
	h := health.Handler(c, &reg)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	fmt.Println(rec.Code, "before the first probe")
	_, _ = c.Probe(context.Background(), "bank")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var rep health.Report
	_ = json.Unmarshal(rec.Body.Bytes(), &rep)
	fmt.Println(rec.Code, rep.Ready, rep.Targets[0].Status, rep.Breakers[0].State)
	// Output:
	// 503 before the first probe
	// 200 true healthy closed
}
