package riprapprom_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/require"

	riprapprom "github.com/riprap-go/riprap/contrib/prometheus"
	"github.com/riprap-go/riprap/resilience/chaos"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/hedge"
	"github.com/riprap-go/riprap/resilience/throttle"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// hang blocks until the call's context ends.
func hang(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestTimeoutMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		to, err := timeout.New(timeout.Config{Name: "fx", Timeout: time.Second})
		require.NoError(t, err)
		require.ErrorIs(t, run(hang, to), timeout.ErrTimeout)
		require.NoError(t, run(ok, to))
		c := riprapprom.NewCollector().AddTimeout(to)

		compare(t, c, `
# HELP riprap_timeout_calls_total Calls ended by the timeout policy's own deadline (kind=timeout).
# TYPE riprap_timeout_calls_total counter
riprap_timeout_calls_total{kind="timeout",name="fx"} 1
# HELP riprap_timeout_abandoned_calls Calls abandoned by the timeout (Abandon mode) that are still running.
# TYPE riprap_timeout_abandoned_calls gauge
riprap_timeout_abandoned_calls{name="fx"} 0
# HELP riprap_timeout_abandoned_panics_total Panics of abandoned calls, which reached no caller.
# TYPE riprap_timeout_abandoned_panics_total counter
riprap_timeout_abandoned_panics_total{name="fx"} 0
`, "riprap_timeout_calls_total", "riprap_timeout_abandoned_calls", "riprap_timeout_abandoned_panics_total")
	})
}

func TestHealthMetrics(t *testing.T) {
	clk := clock.NewMock()
	h, err := health.New(health.Config{Interval: time.Second, Clock: clk, FailuresToUnhealthy: 1},
		health.Target{Name: "bank", Probe: fail}, health.Target{Name: "fx", Probe: ok})
	require.NoError(t, err)
	ctx := context.Background()
	st, _ := h.Probe(ctx, "bank")
	require.Equal(t, health.Unhealthy, st)
	st, _ = h.Probe(ctx, "fx")
	require.Equal(t, health.Healthy, st)
	c := riprapprom.NewCollector().AddChecker(h)

	compare(t, c, `
# HELP riprap_health_status Health of a checked target: 1 healthy, 0 unhealthy or not yet known.
# TYPE riprap_health_status gauge
riprap_health_status{target="bank"} 0
riprap_health_status{target="fx"} 1
# HELP riprap_health_target_status Health status of a checked target: 1 for its status (unknown, healthy, unhealthy), 0 for the others.
# TYPE riprap_health_target_status gauge
riprap_health_target_status{status="healthy",target="bank"} 0
riprap_health_target_status{status="healthy",target="fx"} 1
riprap_health_target_status{status="unhealthy",target="bank"} 1
riprap_health_target_status{status="unhealthy",target="fx"} 0
riprap_health_target_status{status="unknown",target="bank"} 0
riprap_health_target_status{status="unknown",target="fx"} 0
# HELP riprap_health_probes_total Health probes made of the target.
# TYPE riprap_health_probes_total counter
riprap_health_probes_total{target="bank"} 1
riprap_health_probes_total{target="fx"} 1
# HELP riprap_health_probe_failures_total Health probes of the target that failed.
# TYPE riprap_health_probe_failures_total counter
riprap_health_probe_failures_total{target="bank"} 1
riprap_health_probe_failures_total{target="fx"} 0
# HELP riprap_health_consecutive_failures Failed health probes of the target since its last success.
# TYPE riprap_health_consecutive_failures gauge
riprap_health_consecutive_failures{target="bank"} 1
riprap_health_consecutive_failures{target="fx"} 0
# HELP riprap_health_last_probe_duration_seconds How long the target's last health probe took.
# TYPE riprap_health_last_probe_duration_seconds gauge
riprap_health_last_probe_duration_seconds{target="bank"} 0
riprap_health_last_probe_duration_seconds{target="fx"} 0
`, "riprap_health_status", "riprap_health_target_status", "riprap_health_probes_total",
		"riprap_health_probe_failures_total", "riprap_health_consecutive_failures",
		"riprap_health_last_probe_duration_seconds")
}

func TestThrottleMetrics(t *testing.T) {
	th, err := throttle.New(throttle.Config{Name: "bank", Clock: clock.NewMock()})
	require.NoError(t, err)
	require.NoError(t, run(ok, th))
	require.ErrorIs(t, run(fail, th), errDown)
	c := riprapprom.NewCollector().AddThrottle(th)

	compare(t, c, `
# HELP riprap_throttle_rejection_probability Chance that the adaptive throttle refuses a call made now, 0 to 1.
# TYPE riprap_throttle_rejection_probability gauge
riprap_throttle_rejection_probability{name="bank"} 0
# HELP riprap_throttle_calls_total Calls seen by the adaptive throttle, by kind: successful, failed, ignored, throttled.
# TYPE riprap_throttle_calls_total counter
riprap_throttle_calls_total{kind="failed",name="bank"} 1
riprap_throttle_calls_total{kind="ignored",name="bank"} 0
riprap_throttle_calls_total{kind="successful",name="bank"} 1
riprap_throttle_calls_total{kind="throttled",name="bank"} 0
`, "riprap_throttle_rejection_probability", "riprap_throttle_calls_total")
}

func TestHedgeMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hg, err := hedge.New(hedge.Config{Name: "fx", Delay: 10 * time.Millisecond})
		require.NoError(t, err)
		var calls atomic.Int32
		slowThenFast := func(ctx context.Context) error {
			if calls.Add(1) == 1 { // the first attempt waits until the hedge wins
				return hang(ctx)
			}
			return nil
		}
		require.NoError(t, run(slowThenFast, hg))
		synctest.Wait() // the cancelled first attempt has returned
		c := riprapprom.NewCollector().AddHedger(hg)

		compare(t, c, `
# HELP riprap_hedge_calls_total Calls the hedger started.
# TYPE riprap_hedge_calls_total counter
riprap_hedge_calls_total{name="fx"} 1
# HELP riprap_hedge_attempts_total Extra attempts (hedges) the hedger made.
# TYPE riprap_hedge_attempts_total counter
riprap_hedge_attempts_total{name="fx"} 1
# HELP riprap_hedge_wins_total Calls whose answer came from a hedge.
# TYPE riprap_hedge_wins_total counter
riprap_hedge_wins_total{name="fx"} 1
# HELP riprap_hedge_budget_refusals_total Hedges the hedge budget refused.
# TYPE riprap_hedge_budget_refusals_total counter
riprap_hedge_budget_refusals_total{name="fx"} 0
# HELP riprap_hedge_delay_seconds Wait before the next call's first hedge.
# TYPE riprap_hedge_delay_seconds gauge
riprap_hedge_delay_seconds{name="fx"} 0.01
`, "riprap_hedge_calls_total", "riprap_hedge_attempts_total", "riprap_hedge_wins_total",
			"riprap_hedge_budget_refusals_total", "riprap_hedge_delay_seconds")
	})
}

func TestChaosMetrics(t *testing.T) {
	inj, err := chaos.Fault(errDown, chaos.Config{Name: "bank-faults", Rate: 1, On: true})
	require.NoError(t, err)
	require.ErrorIs(t, run(ok, inj), errDown)
	require.ErrorIs(t, run(ok, inj), errDown)
	c := riprapprom.NewCollector().AddInjector(inj)

	compare(t, c, `
# HELP riprap_chaos_enabled Whether the fault injector is switched on (1) or off (0).
# TYPE riprap_chaos_enabled gauge
riprap_chaos_enabled{fault="fault",name="bank-faults"} 1
# HELP riprap_chaos_calls_total Calls the switched-on fault injector considered, by decision: injected, passed.
# TYPE riprap_chaos_calls_total counter
riprap_chaos_calls_total{decision="injected",fault="fault",name="bank-faults"} 2
riprap_chaos_calls_total{decision="passed",fault="fault",name="bank-faults"} 0
`, "riprap_chaos_enabled", "riprap_chaos_calls_total")
}
