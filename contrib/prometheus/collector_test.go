package riprapprom_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	riprapprom "github.com/riprap-go/riprap/contrib/prometheus"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

var errDown = errors.New("bank down")

// compare checks the collector's exposition of the named families against
// want, a literal in the text format.
func compare(t *testing.T, c prometheus.Collector, want string, names ...string) {
	t.Helper()
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want), names...))
}

// run passes one call through guards and returns its error.
func run(fn func(context.Context) error, guards ...resilience.Guard) error {
	return resilience.Run(context.Background(), fn, guards...)
}

func ok(context.Context) error   { return nil }
func fail(context.Context) error { return errDown }

func newBreaker(t *testing.T, name string, clk clock.Clock) *breaker.Breaker {
	t.Helper()
	b, err := breaker.New(breaker.Config{Name: name, ConsecutiveFailures: 2, OpenWait: time.Second, Clock: clk})
	require.NoError(t, err)
	return b
}

func TestBreakerMetrics(t *testing.T) {
	clk := clock.NewMock()
	b := newBreaker(t, "bank", clk)
	require.NoError(t, run(ok, b))
	require.ErrorIs(t, run(fail, b), errDown)
	require.ErrorIs(t, run(fail, b), errDown) // second consecutive failure: open
	require.ErrorIs(t, run(ok, b), breaker.ErrOpen)
	c := riprapprom.NewCollector().AddBreaker(b)

	compare(t, c, `
# HELP riprap_circuitbreaker_state Circuit breaker state: 1 for the state the breaker is in, 0 for the others.
# TYPE riprap_circuitbreaker_state gauge
riprap_circuitbreaker_state{name="bank",state="closed"} 0
riprap_circuitbreaker_state{name="bank",state="disabled"} 0
riprap_circuitbreaker_state{name="bank",state="forced_open"} 0
riprap_circuitbreaker_state{name="bank",state="half_open"} 0
riprap_circuitbreaker_state{name="bank",state="held_open"} 0
riprap_circuitbreaker_state{name="bank",state="metrics_only"} 0
riprap_circuitbreaker_state{name="bank",state="open"} 1
# HELP riprap_circuitbreaker_calls_total Calls seen by the circuit breaker, by kind: successful, failed, ignored, not_permitted.
# TYPE riprap_circuitbreaker_calls_total counter
riprap_circuitbreaker_calls_total{kind="failed",name="bank"} 2
riprap_circuitbreaker_calls_total{kind="ignored",name="bank"} 0
riprap_circuitbreaker_calls_total{kind="not_permitted",name="bank"} 1
riprap_circuitbreaker_calls_total{kind="successful",name="bank"} 1
# HELP riprap_circuitbreaker_slow_calls_total Calls slower than the breaker's SlowCallDuration, also counted as successful or failed.
# TYPE riprap_circuitbreaker_slow_calls_total counter
riprap_circuitbreaker_slow_calls_total{name="bank"} 0
# HELP riprap_circuitbreaker_transitions_total State transitions, resets and metrics-only would-opens of the breaker.
# TYPE riprap_circuitbreaker_transitions_total counter
riprap_circuitbreaker_transitions_total{name="bank"} 1
`, "riprap_circuitbreaker_state", "riprap_circuitbreaker_calls_total",
		"riprap_circuitbreaker_slow_calls_total", "riprap_circuitbreaker_transitions_total")

	// Closed again, the window's gauges come back: one failure in two calls.
	clk.Add(time.Second)
	require.NoError(t, run(ok, b)) // the probe closes the breaker
	require.ErrorIs(t, run(fail, b), errDown)
	compare(t, c, `
# HELP riprap_circuitbreaker_failure_rate Failures over calls in the breaker's current window, 0 to 1; 0 outside closed and metrics_only.
# TYPE riprap_circuitbreaker_failure_rate gauge
riprap_circuitbreaker_failure_rate{name="bank"} 1
# HELP riprap_circuitbreaker_slow_call_rate Slow calls over calls in the breaker's current window, 0 to 1; 0 outside closed and metrics_only.
# TYPE riprap_circuitbreaker_slow_call_rate gauge
riprap_circuitbreaker_slow_call_rate{name="bank"} 0
# HELP riprap_circuitbreaker_buffered_calls Calls in the breaker's current window.
# TYPE riprap_circuitbreaker_buffered_calls gauge
riprap_circuitbreaker_buffered_calls{name="bank"} 1
# HELP riprap_circuitbreaker_consecutive_failures Failures since the breaker's last success, while closed or metrics_only.
# TYPE riprap_circuitbreaker_consecutive_failures gauge
riprap_circuitbreaker_consecutive_failures{name="bank"} 1
# HELP riprap_circuitbreaker_transitions_total State transitions, resets and metrics-only would-opens of the breaker.
# TYPE riprap_circuitbreaker_transitions_total counter
riprap_circuitbreaker_transitions_total{name="bank"} 3
`, "riprap_circuitbreaker_failure_rate", "riprap_circuitbreaker_slow_call_rate",
		"riprap_circuitbreaker_buffered_calls", "riprap_circuitbreaker_consecutive_failures",
		"riprap_circuitbreaker_transitions_total")
}

// TestBreakerStateReadAtScrape proves the state series exist before any
// event and follow a manual change without one being listened to.
func TestBreakerStateReadAtScrape(t *testing.T) {
	reg := &breaker.Registry{}
	c := riprapprom.NewCollector().AddBreakers(reg)
	assert.Equal(t, 0, testutil.CollectAndCount(c, "riprap_circuitbreaker_state"))

	b, err := reg.GetOrCreate("fx", breaker.Config{})
	require.NoError(t, err)
	c.AddBreaker(b) // also in the registry: read once
	assert.Equal(t, 1.0, stateValue(t, c, "fx", "closed"))
	b.ForceOpen()
	assert.Equal(t, 0.0, stateValue(t, c, "fx", "closed"))
	assert.Equal(t, 1.0, stateValue(t, c, "fx", "forced_open"))
}

// stateValue reads riprap_circuitbreaker_state{name,state} from a fresh
// registry, which also proves no series is exported twice.
func stateValue(t *testing.T, c prometheus.Collector, name, state string) float64 {
	t.Helper()
	r := prometheus.NewPedanticRegistry()
	require.NoError(t, r.Register(c))
	mfs, err := r.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "riprap_circuitbreaker_state" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["name"] == name && labels["state"] == state {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no riprap_circuitbreaker_state{name=%q,state=%q}", name, state)
	return 0
}

func TestRetryAndBudgetMetrics(t *testing.T) {
	budget, err := backoff.NewBudget(backoff.BudgetConfig{Clock: clock.NewMock()})
	require.NoError(t, err)
	retry, err := backoff.NewRetry(backoff.RetryConfig{Name: "bank", MaxAttempts: 3,
		Strategy: backoff.Constant(0), Budget: budget, Clock: clock.NewMock()})
	require.NoError(t, err)
	require.NoError(t, run(resiliencetest.FailN(1, errDown).Run, retry)) // one retry, then success
	require.ErrorIs(t, run(fail, retry), backoff.ErrMaxAttempts)         // two retries, exhausted
	c := riprapprom.NewCollector().AddRetry(retry).AddBudget("shared", budget)

	compare(t, c, `
# HELP riprap_retry_calls_total Calls through the retry policy by how they ended: successful_without_retry, successful_with_retry, failed_without_retry, failed_with_retry.
# TYPE riprap_retry_calls_total counter
riprap_retry_calls_total{kind="failed_with_retry",name="bank"} 1
riprap_retry_calls_total{kind="failed_without_retry",name="bank"} 0
riprap_retry_calls_total{kind="successful_with_retry",name="bank"} 1
riprap_retry_calls_total{kind="successful_without_retry",name="bank"} 0
# HELP riprap_retry_retries_total Retries started by the retry policy.
# TYPE riprap_retry_retries_total counter
riprap_retry_retries_total{name="bank"} 3
# HELP riprap_retry_exhausted_calls_total Calls that ended on a retryable error because a limit (attempts, duration, deadline, budget) stopped the retries.
# TYPE riprap_retry_exhausted_calls_total counter
riprap_retry_exhausted_calls_total{name="bank"} 1
# HELP riprap_retry_budget_window_calls Calls in the retry budget's window, by kind: requests, retries, refusals.
# TYPE riprap_retry_budget_window_calls gauge
riprap_retry_budget_window_calls{kind="refusals",name="shared"} 0
riprap_retry_budget_window_calls{kind="requests",name="shared"} 2
riprap_retry_budget_window_calls{kind="retries",name="shared"} 3
`, "riprap_retry_calls_total", "riprap_retry_retries_total", "riprap_retry_exhausted_calls_total", "riprap_retry_budget_window_calls")
	assert.Equal(t, 1, testutil.CollectAndCount(c, "riprap_retry_budget_available_retries"))
}

func TestRateLimiterMetrics(t *testing.T) {
	clk := clock.NewMock()
	l, err := ratelimit.NewWithConfig(ratelimit.Config{Name: "api", Rate: ratelimit.PerSecond(1), Burst: 2, Clock: clk})
	require.NoError(t, err)
	require.NoError(t, run(ok, l))
	require.NoError(t, run(ok, l))
	require.ErrorIs(t, run(ok, l), ratelimit.ErrLimited)

	k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Name: "merchants", Rate: ratelimit.PerSecond(1),
		Burst: 1, MaxKeys: 1, Clock: clk})
	require.NoError(t, err)
	require.NoError(t, k.Admit("m1"))
	require.ErrorIs(t, k.Admit("m1"), ratelimit.ErrLimited)
	require.ErrorIs(t, k.Admit("m2"), ratelimit.ErrTooManyKeys)
	c := riprapprom.NewCollector().AddLimiter(l).AddKeyed(k)

	compare(t, c, `
# HELP riprap_ratelimiter_available_permissions Permits the rate limiter would grant now; negative while reservations borrow ahead.
# TYPE riprap_ratelimiter_available_permissions gauge
riprap_ratelimiter_available_permissions{name="api"} 0
# HELP riprap_ratelimiter_rejected_calls_total Calls the rate limiter refused (Guard and Wait).
# TYPE riprap_ratelimiter_rejected_calls_total counter
riprap_ratelimiter_rejected_calls_total{name="api"} 1
# HELP riprap_ratelimiter_keys Keys the keyed rate limiter tracks now.
# TYPE riprap_ratelimiter_keys gauge
riprap_ratelimiter_keys{name="merchants"} 1
# HELP riprap_ratelimiter_keyed_rejected_calls_total Calls the keyed rate limiter refused, by reason: limited (the key was out of permits), capacity (a new key at MaxKeys).
# TYPE riprap_ratelimiter_keyed_rejected_calls_total counter
riprap_ratelimiter_keyed_rejected_calls_total{name="merchants",reason="capacity"} 1
riprap_ratelimiter_keyed_rejected_calls_total{name="merchants",reason="limited"} 1
# HELP riprap_ratelimiter_evicted_keys_total Idle keys the keyed rate limiter dropped.
# TYPE riprap_ratelimiter_evicted_keys_total counter
riprap_ratelimiter_evicted_keys_total{name="merchants"} 0
# HELP riprap_ratelimiter_overflow_calls_total Decisions the keyed rate limiter made with its shared overflow bucket.
# TYPE riprap_ratelimiter_overflow_calls_total counter
riprap_ratelimiter_overflow_calls_total{name="merchants"} 0
`, "riprap_ratelimiter_available_permissions", "riprap_ratelimiter_rejected_calls_total",
		"riprap_ratelimiter_keys", "riprap_ratelimiter_keyed_rejected_calls_total",
		"riprap_ratelimiter_evicted_keys_total", "riprap_ratelimiter_overflow_calls_total")

	clk.Add(time.Second) // one permit back: read at scrape time
	compare(t, c, `
# HELP riprap_ratelimiter_available_permissions Permits the rate limiter would grant now; negative while reservations borrow ahead.
# TYPE riprap_ratelimiter_available_permissions gauge
riprap_ratelimiter_available_permissions{name="api"} 1
`, "riprap_ratelimiter_available_permissions")
}

func TestBulkheadMetrics(t *testing.T) {
	b, err := bulkhead.New(bulkhead.Config{Name: "ledger", MaxConcurrent: 2})
	require.NoError(t, err)
	held, acquired := b.TryAcquire()
	require.True(t, acquired)
	defer held.Release()

	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Name: "bank", Initial: 1})
	require.NoError(t, err)
	permit, err := a.Acquire()
	require.NoError(t, err)
	require.ErrorIs(t, run(ok, a), bulkhead.ErrOverLimit) // over the limit of 1
	permit.Done(resilience.Failure)                       // a drop; the limit stays at Min
	c := riprapprom.NewCollector().AddBulkhead(b).AddAdaptive(a)

	compare(t, c, `
# HELP riprap_bulkhead_available_concurrent_calls Calls the bulkhead would admit now without queueing.
# TYPE riprap_bulkhead_available_concurrent_calls gauge
riprap_bulkhead_available_concurrent_calls{name="bank"} 1
riprap_bulkhead_available_concurrent_calls{name="ledger"} 1
# HELP riprap_bulkhead_max_allowed_concurrent_calls The bulkhead's concurrency limit (the current limit of an adaptive one).
# TYPE riprap_bulkhead_max_allowed_concurrent_calls gauge
riprap_bulkhead_max_allowed_concurrent_calls{name="bank"} 1
riprap_bulkhead_max_allowed_concurrent_calls{name="ledger"} 2
# HELP riprap_bulkhead_waiting_calls Calls queued for a bulkhead slot now.
# TYPE riprap_bulkhead_waiting_calls gauge
riprap_bulkhead_waiting_calls{name="ledger"} 0
# HELP riprap_bulkhead_rejected_calls_total Calls the bulkhead refused, by reason: full (no slot, no room to queue), queue_timeout (waited MaxWait), limit (over an adaptive limit).
# TYPE riprap_bulkhead_rejected_calls_total counter
riprap_bulkhead_rejected_calls_total{name="bank",reason="limit"} 1
riprap_bulkhead_rejected_calls_total{name="ledger",reason="full"} 0
riprap_bulkhead_rejected_calls_total{name="ledger",reason="queue_timeout"} 0
# HELP riprap_bulkhead_waited_calls_total Calls that had to queue for a bulkhead slot.
# TYPE riprap_bulkhead_waited_calls_total counter
riprap_bulkhead_waited_calls_total{name="ledger"} 0
# HELP riprap_bulkhead_abandoned_calls_total Calls that left the bulkhead's queue because their context ended.
# TYPE riprap_bulkhead_abandoned_calls_total counter
riprap_bulkhead_abandoned_calls_total{name="ledger"} 0
# HELP riprap_bulkhead_adaptive_drops_total Failures and slow successes an adaptive bulkhead lowered its limit for.
# TYPE riprap_bulkhead_adaptive_drops_total counter
riprap_bulkhead_adaptive_drops_total{name="bank"} 1
`, "riprap_bulkhead_available_concurrent_calls", "riprap_bulkhead_max_allowed_concurrent_calls",
		"riprap_bulkhead_waiting_calls", "riprap_bulkhead_rejected_calls_total", "riprap_bulkhead_waited_calls_total",
		"riprap_bulkhead_abandoned_calls_total", "riprap_bulkhead_adaptive_drops_total")
}

func TestCollectorIgnoresNilSources(t *testing.T) {
	var c riprapprom.Collector // the zero value works
	c.AddBreaker(nil).AddBreakers(nil).AddLimiter(nil).AddKeyed(nil).AddBulkhead(nil).AddAdaptive(nil).
		AddRetry(nil).AddBudget("b", nil).AddTimeout(nil).AddChecker(nil).AddThrottle(nil).AddHedger(nil).
		AddInjector(nil)
	assert.Equal(t, 0, testutil.CollectAndCount(&c))
	// Describe announces every family all the same.
	descs := make(chan *prometheus.Desc, 100)
	c.Describe(descs)
	close(descs)
	assert.Len(t, descs, len(riprapprom.MetricNames())-1) // all but the opt-in histogram
}

func TestInvalidNameIsRepaired(t *testing.T) {
	b, err := breaker.New(breaker.Config{Name: "bad\xffname"})
	require.NoError(t, err)
	r := prometheus.NewPedanticRegistry()
	require.NoError(t, r.Register(riprapprom.NewCollector().AddBreaker(b)))
	_, err = r.Gather()
	require.NoError(t, err)
}
