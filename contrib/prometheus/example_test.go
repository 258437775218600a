package riprapprom_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	riprapprom "github.com/riprap-go/riprap/contrib/prometheus"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

func ExampleCollector() {
	breakers := &breaker.Registry{}
	bank, _ := breakers.GetOrCreate("bank", breaker.Config{ConsecutiveFailures: 1})
	limiter, _ := ratelimit.NewWithConfig(ratelimit.Config{Name: "api", Rate: ratelimit.PerSecond(10), Burst: 5})

	// Register once; every scrape reads the components' snapshots.
	reg := prometheus.NewRegistry()
	reg.MustRegister(riprapprom.NewCollector().AddBreakers(breakers).AddLimiter(limiter))

	_ = resilience.Run(context.Background(), func(context.Context) error {
		return errors.New("bank down")
	}, bank)

	text, _ := testutil.GatherAndFormat(reg, expfmt.TypeTextPlain,
		"riprap_circuitbreaker_calls_total", "riprap_ratelimiter_available_permissions")
	fmt.Print(string(text))
	// Output:
	// # HELP riprap_circuitbreaker_calls_total Calls seen by the circuit breaker, by kind: successful, failed, ignored, not_permitted.
	// # TYPE riprap_circuitbreaker_calls_total counter
	// riprap_circuitbreaker_calls_total{kind="failed",name="bank"} 1
	// riprap_circuitbreaker_calls_total{kind="ignored",name="bank"} 0
	// riprap_circuitbreaker_calls_total{kind="not_permitted",name="bank"} 0
	// riprap_circuitbreaker_calls_total{kind="successful",name="bank"} 0
	// # HELP riprap_ratelimiter_available_permissions Permits the rate limiter would grant now; negative while reservations borrow ahead.
	// # TYPE riprap_ratelimiter_available_permissions gauge
	// riprap_ratelimiter_available_permissions{name="api"} 5
}

func ExampleCollector_state() {
	bank, _ := breaker.New(breaker.Config{Name: "bank"})
	c := riprapprom.NewCollector().AddBreaker(bank)
	bank.ForceOpen()

	// One series per state; the current one is 1.
	text, _ := testutil.CollectAndFormat(c, expfmt.TypeTextPlain, "riprap_circuitbreaker_state")
	fmt.Print(string(text))
	// Output:
	// # HELP riprap_circuitbreaker_state Circuit breaker state: 1 for the state the breaker is in, 0 for the others.
	// # TYPE riprap_circuitbreaker_state gauge
	// riprap_circuitbreaker_state{name="bank",state="closed"} 0
	// riprap_circuitbreaker_state{name="bank",state="disabled"} 0
	// riprap_circuitbreaker_state{name="bank",state="forced_open"} 1
	// riprap_circuitbreaker_state{name="bank",state="half_open"} 0
	// riprap_circuitbreaker_state{name="bank",state="held_open"} 0
	// riprap_circuitbreaker_state{name="bank",state="metrics_only"} 0
	// riprap_circuitbreaker_state{name="bank",state="open"} 0
}

func ExampleCallDuration() {
	clk := clock.NewMock() // a real program leaves Clock nil
	durations, _ := riprapprom.NewCallDuration(riprapprom.CallDurationConfig{Buckets: []float64{0.1, 1}, Clock: clk})
	bank, _ := breaker.New(breaker.Config{Name: "bank"})

	// Outermost, the guard times the whole call, breaker included.
	pipeline := resilience.NewPipeline[string](durations.Guard("bank"), bank)
	_, _ = pipeline.Execute(context.Background(), func(context.Context) (string, error) {
		clk.Add(300 * time.Millisecond)
		return "receipt", nil
	})

	text, _ := testutil.CollectAndFormat(durations, expfmt.TypeTextPlain, "riprap_call_duration_seconds")
	fmt.Print(string(text))
	// Output:
	// # HELP riprap_call_duration_seconds Duration of calls through a riprap guard, by guard name and outcome (success, failure, ignored).
	// # TYPE riprap_call_duration_seconds histogram
	// riprap_call_duration_seconds_bucket{name="bank",outcome="failure",le="0.1"} 0
	// riprap_call_duration_seconds_bucket{name="bank",outcome="failure",le="1"} 0
	// riprap_call_duration_seconds_bucket{name="bank",outcome="failure",le="+Inf"} 0
	// riprap_call_duration_seconds_sum{name="bank",outcome="failure"} 0
	// riprap_call_duration_seconds_count{name="bank",outcome="failure"} 0
	// riprap_call_duration_seconds_bucket{name="bank",outcome="ignored",le="0.1"} 0
	// riprap_call_duration_seconds_bucket{name="bank",outcome="ignored",le="1"} 0
	// riprap_call_duration_seconds_bucket{name="bank",outcome="ignored",le="+Inf"} 0
	// riprap_call_duration_seconds_sum{name="bank",outcome="ignored"} 0
	// riprap_call_duration_seconds_count{name="bank",outcome="ignored"} 0
	// riprap_call_duration_seconds_bucket{name="bank",outcome="success",le="0.1"} 0
	// riprap_call_duration_seconds_bucket{name="bank",outcome="success",le="1"} 1
	// riprap_call_duration_seconds_bucket{name="bank",outcome="success",le="+Inf"} 1
	// riprap_call_duration_seconds_sum{name="bank",outcome="success"} 0.3
	// riprap_call_duration_seconds_count{name="bank",outcome="success"} 1
}

// A component built inside another package, which shows only its
// snapshot (here a health target a gateway reports in its status), is
// exported under the component's own names.
func ExampleCollector_AddSnapshots() {
	status := func() []health.TargetSnapshot { // what the other package's status says
		return []health.TargetSnapshot{{Name: "bank", Status: health.Unhealthy}}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(riprapprom.NewCollector().AddSnapshots(func() riprapprom.Snapshots {
		return riprapprom.Snapshots{Health: status()}
	}))
	text, _ := testutil.GatherAndFormat(reg, expfmt.TypeTextPlain, "riprap_health_status")
	fmt.Print(string(text))
	// Output:
	// # HELP riprap_health_status Health of a checked target: 1 healthy, 0 unhealthy or not yet known.
	// # TYPE riprap_health_status gauge
	// riprap_health_status{target="bank"} 0
}
