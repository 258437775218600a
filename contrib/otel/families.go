package riprapotel

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// family is one instrument: its OpenTelemetry name, unit and description,
// and the attribute keys of its series. Names are chosen so that the
// Prometheus exporter's default translation (counters gain _total, unit
// "s" gains _seconds) yields exactly the names of contrib/prometheus:
// underscores rather than dots, so that no strategy, escaping or not,
// changes them.
type family struct {
	id      int // index in families, and in a Metrics' instruments
	name    string
	unit    string
	help    string
	counter bool
	labels  []string
}

var families []*family

func newFamily(counter bool, name, unit, help string, labels ...string) *family {
	f := &family{id: len(families), name: name, unit: unit, help: help, counter: counter, labels: labels}
	families = append(families, f)
	return f
}

func gauge(name, unit, help string, labels ...string) *family {
	return newFamily(false, name, unit, help, labels...)
}

func counter(name, unit, help string, labels ...string) *family {
	return newFamily(true, name, unit, help, labels...)
}

// instrument creates f's observable instrument on m.
func (f *family) instrument(m metric.Meter) (metric.Float64Observable, error) {
	if f.counter {
		return m.Float64ObservableCounter(f.name, metric.WithUnit(f.unit), metric.WithDescription(f.help))
	}
	return m.Float64ObservableGauge(f.name, metric.WithUnit(f.unit), metric.WithDescription(f.help))
}

// observer records the samples of one collection.
type observer struct {
	o   metric.Observer
	ins []metric.Float64Observable // by family id
}

// emit records one sample of f, its attributes given in the order of
// f.labels. A value that is not valid UTF-8 (a name taken from outside) is
// repaired, since an exporter would refuse it.
func (ob observer) emit(f *family, v float64, values ...string) {
	kvs := make([]attribute.KeyValue, len(values))
	for i, val := range values {
		kvs[i] = attribute.String(f.labels[i], strings.ToValidUTF8(val, "\uFFFD"))
	}
	ob.o.ObserveFloat64(ob.ins[f.id], v, metric.WithAttributes(kvs...))
}

// The instruments, by component; see the package documentation for the
// Prometheus names they become.
var (
	cbState = gauge("riprap_circuitbreaker_state", "",
		"Circuit breaker state: 1 for the state the breaker is in, 0 for the others.", "name", "state")
	cbCalls = counter("riprap_circuitbreaker_calls", "",
		"Calls seen by the circuit breaker, by kind: successful, failed, ignored, not_permitted.", "name", "kind")
	cbSlowCalls = counter("riprap_circuitbreaker_slow_calls", "",
		"Calls slower than the breaker's SlowCallDuration, also counted as successful or failed.", "name")
	cbFailureRate = gauge("riprap_circuitbreaker_failure_rate", "",
		"Failures over calls in the breaker's current window, 0 to 1; 0 outside closed and metrics_only.", "name")
	cbSlowCallRate = gauge("riprap_circuitbreaker_slow_call_rate", "",
		"Slow calls over calls in the breaker's current window, 0 to 1; 0 outside closed and metrics_only.", "name")
	cbBufferedCalls = gauge("riprap_circuitbreaker_buffered_calls", "",
		"Calls in the breaker's current window.", "name")
	cbConsecutiveFailures = gauge("riprap_circuitbreaker_consecutive_failures", "",
		"Failures since the breaker's last success, while closed or metrics_only.", "name")
	cbTransitions = counter("riprap_circuitbreaker_transitions", "",
		"State transitions, resets and metrics-only would-opens of the breaker.", "name")

	retryCalls = counter("riprap_retry_calls", "",
		"Calls through the retry policy by how they ended: successful_without_retry, successful_with_retry, failed_without_retry, failed_with_retry.", "name", "kind")
	retryRetries = counter("riprap_retry_retries", "",
		"Retries started by the retry policy.", "name")
	retryExhausted = counter("riprap_retry_exhausted_calls", "",
		"Calls that ended on a retryable error because a limit (attempts, duration, deadline, budget) stopped the retries.", "name")
	budgetAvailable = gauge("riprap_retry_budget_available_retries", "",
		"Retries the retry budget would grant now.", "name")
	budgetWindow = gauge("riprap_retry_budget_window_calls", "",
		"Calls in the retry budget's window, by kind: requests, retries, refusals.", "name", "kind")

	rlAvailable = gauge("riprap_ratelimiter_available_permissions", "",
		"Permits the rate limiter would grant now; negative while reservations borrow ahead.", "name")
	rlRejected = counter("riprap_ratelimiter_rejected_calls", "",
		"Calls the rate limiter refused (Guard and Wait).", "name")
	rlKeys = gauge("riprap_ratelimiter_keys", "",
		"Keys the keyed rate limiter tracks now.", "name")
	rlKeyedRejected = counter("riprap_ratelimiter_keyed_rejected_calls", "",
		"Calls the keyed rate limiter refused, by reason: limited (the key was out of permits), capacity (a new key at MaxKeys).", "name", "reason")
	rlEvicted = counter("riprap_ratelimiter_evicted_keys", "",
		"Idle keys the keyed rate limiter dropped.", "name")
	rlOverflow = counter("riprap_ratelimiter_overflow_calls", "",
		"Decisions the keyed rate limiter made with its shared overflow bucket.", "name")

	bhAvailable = gauge("riprap_bulkhead_available_concurrent_calls", "",
		"Calls the bulkhead would admit now without queueing.", "name")
	bhMax = gauge("riprap_bulkhead_max_allowed_concurrent_calls", "",
		"The bulkhead's concurrency limit (the current limit of an adaptive one).", "name")
	bhWaiting = gauge("riprap_bulkhead_waiting_calls", "",
		"Calls queued for a bulkhead slot now.", "name")
	bhRejected = counter("riprap_bulkhead_rejected_calls", "",
		"Calls the bulkhead refused, by reason: full (no slot, no room to queue), queue_timeout (waited MaxWait), limit (over an adaptive limit).", "name", "reason")
	bhWaited = counter("riprap_bulkhead_waited_calls", "",
		"Calls that had to queue for a bulkhead slot.", "name")
	bhAbandoned = counter("riprap_bulkhead_abandoned_calls", "",
		"Calls that left the bulkhead's queue because their context ended.", "name")
	bhDrops = counter("riprap_bulkhead_adaptive_drops", "",
		"Failures and slow successes an adaptive bulkhead lowered its limit for.", "name")

	toCalls = counter("riprap_timeout_calls", "",
		"Calls ended by the timeout policy's own deadline (kind=timeout).", "name", "kind")
	toAbandoned = gauge("riprap_timeout_abandoned_calls", "",
		"Calls abandoned by the timeout (Abandon mode) that are still running.", "name")
	toPanics = counter("riprap_timeout_abandoned_panics", "",
		"Panics of abandoned calls, which reached no caller.", "name")

	hcStatus = gauge("riprap_health_status", "",
		"Health of a checked target: 1 healthy, 0 unhealthy or not yet known.", "target")
	hcTargetStatus = gauge("riprap_health_target_status", "",
		"Health status of a checked target: 1 for its status (unknown, healthy, unhealthy), 0 for the others.", "target", "status")
	hcProbes = counter("riprap_health_probes", "",
		"Health probes made of the target.", "target")
	hcProbeFailures = counter("riprap_health_probe_failures", "",
		"Health probes of the target that failed.", "target")
	hcConsecutiveFailures = gauge("riprap_health_consecutive_failures", "",
		"Failed health probes of the target since its last success.", "target")
	hcProbeDuration = gauge("riprap_health_last_probe_duration", "s",
		"How long the target's last health probe took.", "target")

	thProbability = gauge("riprap_throttle_rejection_probability", "",
		"Chance that the adaptive throttle refuses a call made now, 0 to 1.", "name")
	thCalls = counter("riprap_throttle_calls", "",
		"Calls seen by the adaptive throttle, by kind: successful, failed, ignored, throttled.", "name", "kind")

	hgCalls = counter("riprap_hedge_calls", "",
		"Calls the hedger started.", "name")
	hgHedges = counter("riprap_hedge_attempts", "",
		"Extra attempts (hedges) the hedger made.", "name")
	hgWins = counter("riprap_hedge_wins", "",
		"Calls whose answer came from a hedge.", "name")
	hgRefusals = counter("riprap_hedge_budget_refusals", "",
		"Hedges the hedge budget refused.", "name")
	hgDelay = gauge("riprap_hedge_delay", "s",
		"Wait before the next call's first hedge.", "name")

	chOn = gauge("riprap_chaos_enabled", "",
		"Whether the fault injector is switched on (1) or off (0).", "name", "fault")
	chCalls = counter("riprap_chaos_calls", "",
		"Calls the switched-on fault injector considered, by decision: injected, passed.", "name", "fault", "decision")
)
