// Package riprapprom exports riprap's resilience components to Prometheus.
//
// A [Collector] reads each component's Snapshot at scrape time: breakers
// (one by one or a whole [breaker.Registry]), rate limiters, keyed
// limiters, bulkheads, adaptive limits, retries, retry budgets, timeouts,
// health checkers, throttles, hedgers and fault injectors. Nothing is set
// from events, so every series is there from the first scrape, and a
// listener-free component costs its callers nothing for being measured.
// [CallDuration] adds an opt-in histogram of call durations, fed by guards
// placed in pipelines.
// Components built where only their snapshots are exposed (a payments
// gateway's rate limiters and health checks, in its Status) are exported
// through [Collector.AddSnapshots] under the same names.
//
// It is its own Go module, so programs that do not import it download no
// Prometheus code. The module's grafana/riprap.json is a Grafana dashboard
// built on these names; contrib/otel exports the same names through
// OpenTelemetry.
//
// # Metrics
//
// Names follow resilience4j's, prefixed riprap_ instead of resilience4j_,
// so dashboards and alerts written for one read the other. Label "name" is
// the component's configured name ([breaker.Config.Name] and the like);
// "target" is a health target's name. Counters count since the component
// was built.
//
//	metric                                          type       labels
//	riprap_circuitbreaker_state                     gauge      name, state: closed, open, half_open, forced_open, disabled, metrics_only, held_open; 1 for the current state
//	riprap_circuitbreaker_calls_total               counter    name, kind: successful, failed, ignored, not_permitted
//	riprap_circuitbreaker_slow_calls_total          counter    name; slow calls, also counted as successful or failed
//	riprap_circuitbreaker_failure_rate              gauge      name; failures / calls in the current window, 0 to 1
//	riprap_circuitbreaker_slow_call_rate            gauge      name; slow calls / calls in the current window, 0 to 1
//	riprap_circuitbreaker_buffered_calls            gauge      name; calls in the current window
//	riprap_circuitbreaker_consecutive_failures      gauge      name
//	riprap_circuitbreaker_transitions_total         counter    name; transitions, resets and metrics-only "would open"s
//	riprap_retry_calls_total                        counter    name, kind: successful_without_retry, successful_with_retry, failed_without_retry, failed_with_retry
//	riprap_retry_retries_total                      counter    name; retries started
//	riprap_retry_exhausted_calls_total              counter    name; calls whose retries a limit stopped
//	riprap_retry_budget_available_retries           gauge      name (given to AddBudget)
//	riprap_retry_budget_window_calls                gauge      name, kind: requests, retries, refusals
//	riprap_ratelimiter_available_permissions        gauge      name; negative while reservations borrow ahead
//	riprap_ratelimiter_rejected_calls_total         counter    name
//	riprap_ratelimiter_keys                         gauge      name; keys a keyed limiter tracks
//	riprap_ratelimiter_keyed_rejected_calls_total   counter    name, reason: limited, capacity
//	riprap_ratelimiter_evicted_keys_total           counter    name
//	riprap_ratelimiter_overflow_calls_total         counter    name
//	riprap_bulkhead_available_concurrent_calls      gauge      name
//	riprap_bulkhead_max_allowed_concurrent_calls    gauge      name; an adaptive limit's current limit
//	riprap_bulkhead_waiting_calls                   gauge      name; queued now
//	riprap_bulkhead_rejected_calls_total            counter    name, reason: full, queue_timeout, limit (adaptive)
//	riprap_bulkhead_waited_calls_total              counter    name; calls that queued
//	riprap_bulkhead_abandoned_calls_total           counter    name; left the queue when their context ended
//	riprap_bulkhead_adaptive_drops_total            counter    name; failures and slow calls that lowered an adaptive limit
//	riprap_timeout_calls_total                      counter    name, kind: timeout
//	riprap_timeout_abandoned_calls                  gauge      name; abandoned calls still running
//	riprap_timeout_abandoned_panics_total           counter    name
//	riprap_health_status                            gauge      target; 1 healthy, 0 unhealthy or unknown
//	riprap_health_target_status                     gauge      target, status: unknown, healthy, unhealthy; 1 for the current status
//	riprap_health_probes_total                      counter    target
//	riprap_health_probe_failures_total              counter    target
//	riprap_health_consecutive_failures              gauge      target
//	riprap_health_last_probe_duration_seconds       gauge      target
//	riprap_throttle_rejection_probability           gauge      name; 0 to 1
//	riprap_throttle_calls_total                     counter    name, kind: successful, failed, ignored, throttled
//	riprap_hedge_calls_total                        counter    name
//	riprap_hedge_attempts_total                     counter    name; hedges made
//	riprap_hedge_wins_total                         counter    name
//	riprap_hedge_budget_refusals_total              counter    name
//	riprap_hedge_delay_seconds                      gauge      name
//	riprap_chaos_enabled                            gauge      name, fault: fault, latency, result, behavior
//	riprap_chaos_calls_total                        counter    name, fault, decision: injected, passed
//	riprap_call_duration_seconds                    histogram  name, outcome: success, failure, ignored ([CallDuration] only)
//
// Rates are ratios from 0 to 1, not resilience4j's percentages.
// resilience4j's retry calls by kind (successful or failed, with or without
// retry) and its time limiter's successful and failed calls have no
// counterpart yet: the retry and timeout snapshots count retries,
// exhaustions and timeouts only.
package riprapprom
