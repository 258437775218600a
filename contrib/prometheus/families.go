package riprapprom

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// family is one metric family the collector exposes: its description is
// fixed, so Describe announces every family whatever sources are added, and
// a dashboard can be checked against that list.
type family struct {
	name string
	desc *prometheus.Desc
	kind prometheus.ValueType
}

var families []*family

func newFamily(kind prometheus.ValueType, name, help string, labels ...string) *family {
	f := &family{name: name, desc: prometheus.NewDesc(name, help, labels, nil), kind: kind}
	families = append(families, f)
	return f
}

// MetricNames returns the name of every metric family this package
// exports, [CallDuration]'s histogram last, for tools that check dashboards
// and alerts against them.
func MetricNames() []string {
	names := make([]string, 0, len(families)+1)
	for _, f := range families {
		names = append(names, f.name)
	}
	return append(names, callDurationName)
}

func gauge(name, help string, labels ...string) *family {
	return newFamily(prometheus.GaugeValue, name, help, labels...)
}

func counter(name, help string, labels ...string) *family {
	return newFamily(prometheus.CounterValue, name, help, labels...)
}

// emit sends one sample. A label value that is not valid UTF-8 (a name
// taken from outside) is repaired rather than turned into an invalid
// metric, so one odd name never fails a whole scrape.
func (f *family) emit(ch chan<- prometheus.Metric, v float64, labels ...string) {
	for i, l := range labels {
		labels[i] = strings.ToValidUTF8(l, "\uFFFD")
	}
	m, err := prometheus.NewConstMetric(f.desc, f.kind, v, labels...)
	if err != nil {
		m = prometheus.NewInvalidMetric(f.desc, err)
	}
	ch <- m
}

// The families, by component. Names follow resilience4j's where it has
// one, so dashboards written for it read riprap's with a prefix change.
var (
	cbState = gauge("riprap_circuitbreaker_state",
		"Circuit breaker state: 1 for the state the breaker is in, 0 for the others.", "name", "state")
	cbCalls = counter("riprap_circuitbreaker_calls_total",
		"Calls seen by the circuit breaker, by kind: successful, failed, ignored, not_permitted.", "name", "kind")
	cbSlowCalls = counter("riprap_circuitbreaker_slow_calls_total",
		"Calls slower than the breaker's SlowCallDuration, also counted as successful or failed.", "name")
	cbFailureRate = gauge("riprap_circuitbreaker_failure_rate",
		"Failures over calls in the breaker's current window, 0 to 1; 0 outside closed and metrics_only.", "name")
	cbSlowCallRate = gauge("riprap_circuitbreaker_slow_call_rate",
		"Slow calls over calls in the breaker's current window, 0 to 1; 0 outside closed and metrics_only.", "name")
	cbBufferedCalls = gauge("riprap_circuitbreaker_buffered_calls",
		"Calls in the breaker's current window.", "name")
	cbConsecutiveFailures = gauge("riprap_circuitbreaker_consecutive_failures",
		"Failures since the breaker's last success, while closed or metrics_only.", "name")
	cbTransitions = counter("riprap_circuitbreaker_transitions_total",
		"State transitions, resets and metrics-only would-opens of the breaker.", "name")

	retryCalls = counter("riprap_retry_calls_total",
		"Calls through the retry policy by how they ended: successful_without_retry, successful_with_retry, failed_without_retry, failed_with_retry.", "name", "kind")
	retryRetries = counter("riprap_retry_retries_total",
		"Retries started by the retry policy.", "name")
	retryExhausted = counter("riprap_retry_exhausted_calls_total",
		"Calls that ended on a retryable error because a limit (attempts, duration, deadline, budget) stopped the retries.", "name")
	budgetAvailable = gauge("riprap_retry_budget_available_retries",
		"Retries the retry budget would grant now.", "name")
	budgetWindow = gauge("riprap_retry_budget_window_calls",
		"Calls in the retry budget's window, by kind: requests, retries, refusals.", "name", "kind")

	rlAvailable = gauge("riprap_ratelimiter_available_permissions",
		"Permits the rate limiter would grant now; negative while reservations borrow ahead.", "name")
	rlRejected = counter("riprap_ratelimiter_rejected_calls_total",
		"Calls the rate limiter refused (Guard and Wait).", "name")
	rlKeys = gauge("riprap_ratelimiter_keys",
		"Keys the keyed rate limiter tracks now.", "name")
	rlKeyedRejected = counter("riprap_ratelimiter_keyed_rejected_calls_total",
		"Calls the keyed rate limiter refused, by reason: limited (the key was out of permits), capacity (a new key at MaxKeys).", "name", "reason")
	rlEvicted = counter("riprap_ratelimiter_evicted_keys_total",
		"Idle keys the keyed rate limiter dropped.", "name")
	rlOverflow = counter("riprap_ratelimiter_overflow_calls_total",
		"Decisions the keyed rate limiter made with its shared overflow bucket.", "name")

	bhAvailable = gauge("riprap_bulkhead_available_concurrent_calls",
		"Calls the bulkhead would admit now without queueing.", "name")
	bhMax = gauge("riprap_bulkhead_max_allowed_concurrent_calls",
		"The bulkhead's concurrency limit (the current limit of an adaptive one).", "name")
	bhWaiting = gauge("riprap_bulkhead_waiting_calls",
		"Calls queued for a bulkhead slot now.", "name")
	bhRejected = counter("riprap_bulkhead_rejected_calls_total",
		"Calls the bulkhead refused, by reason: full (no slot, no room to queue), queue_timeout (waited MaxWait), limit (over an adaptive limit).", "name", "reason")
	bhWaited = counter("riprap_bulkhead_waited_calls_total",
		"Calls that had to queue for a bulkhead slot.", "name")
	bhAbandoned = counter("riprap_bulkhead_abandoned_calls_total",
		"Calls that left the bulkhead's queue because their context ended.", "name")
	bhDrops = counter("riprap_bulkhead_adaptive_drops_total",
		"Failures and slow successes an adaptive bulkhead lowered its limit for.", "name")

	toCalls = counter("riprap_timeout_calls_total",
		"Calls ended by the timeout policy's own deadline (kind=timeout).", "name", "kind")
	toAbandoned = gauge("riprap_timeout_abandoned_calls",
		"Calls abandoned by the timeout (Abandon mode) that are still running.", "name")
	toPanics = counter("riprap_timeout_abandoned_panics_total",
		"Panics of abandoned calls, which reached no caller.", "name")

	hcStatus = gauge("riprap_health_status",
		"Health of a checked target: 1 healthy, 0 unhealthy or not yet known.", "target")
	hcTargetStatus = gauge("riprap_health_target_status",
		"Health status of a checked target: 1 for its status (unknown, healthy, unhealthy), 0 for the others.", "target", "status")
	hcProbes = counter("riprap_health_probes_total",
		"Health probes made of the target.", "target")
	hcProbeFailures = counter("riprap_health_probe_failures_total",
		"Health probes of the target that failed.", "target")
	hcConsecutiveFailures = gauge("riprap_health_consecutive_failures",
		"Failed health probes of the target since its last success.", "target")
	hcProbeDuration = gauge("riprap_health_last_probe_duration_seconds",
		"How long the target's last health probe took.", "target")

	thProbability = gauge("riprap_throttle_rejection_probability",
		"Chance that the adaptive throttle refuses a call made now, 0 to 1.", "name")
	thCalls = counter("riprap_throttle_calls_total",
		"Calls seen by the adaptive throttle, by kind: successful, failed, ignored, throttled.", "name", "kind")

	hgCalls = counter("riprap_hedge_calls_total",
		"Calls the hedger started.", "name")
	hgHedges = counter("riprap_hedge_attempts_total",
		"Extra attempts (hedges) the hedger made.", "name")
	hgWins = counter("riprap_hedge_wins_total",
		"Calls whose answer came from a hedge.", "name")
	hgRefusals = counter("riprap_hedge_budget_refusals_total",
		"Hedges the hedge budget refused.", "name")
	hgDelay = gauge("riprap_hedge_delay_seconds",
		"Wait before the next call's first hedge.", "name")

	chOn = gauge("riprap_chaos_enabled",
		"Whether the fault injector is switched on (1) or off (0).", "name", "fault")
	chCalls = counter("riprap_chaos_calls_total",
		"Calls the switched-on fault injector considered, by decision: injected, passed.", "name", "fault", "decision")
)
