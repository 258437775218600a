package riprapprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/chaos"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/hedge"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/throttle"
	"github.com/riprap-go/riprap/resilience/timeout"
)

type metrics = chan<- prometheus.Metric

// breakerStates lists every state a breaker can be in, read from the
// breaker package itself so that a state added there gets its series here
// without a change.
var breakerStates = func() []breaker.State {
	var out []breaker.State
	for i := range 256 {
		st := breaker.State(i)
		if st.String() == "unknown" {
			break
		}
		out = append(out, st)
	}
	return out
}()

// healthStatuses lists every status a health target can be in.
var healthStatuses = []health.Status{health.Unknown, health.Healthy, health.Unhealthy}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func collectBreaker(ch metrics, s breaker.Snapshot) {
	for _, st := range breakerStates {
		cbState.emit(ch, flag(s.State == st), s.Name, st.String())
	}
	cbCalls.emit(ch, float64(s.Successes), s.Name, "successful")
	cbCalls.emit(ch, float64(s.Failures), s.Name, "failed")
	cbCalls.emit(ch, float64(s.Ignored), s.Name, "ignored")
	cbCalls.emit(ch, float64(s.Rejected), s.Name, "not_permitted")
	cbSlowCalls.emit(ch, float64(s.Slow), s.Name)
	cbFailureRate.emit(ch, s.FailureRate, s.Name)
	cbSlowCallRate.emit(ch, s.SlowCallRate, s.Name)
	cbBufferedCalls.emit(ch, float64(s.WindowCalls), s.Name)
	cbConsecutiveFailures.emit(ch, float64(s.ConsecutiveFailures), s.Name)
	cbTransitions.emit(ch, float64(s.Generation), s.Name)
}

func collectRetry(ch metrics, s backoff.RetrySnapshot) {
	retryCalls.emit(ch, float64(s.SuccessfulWithoutRetry), s.Name, "successful_without_retry")
	retryCalls.emit(ch, float64(s.SuccessfulWithRetry), s.Name, "successful_with_retry")
	retryCalls.emit(ch, float64(s.FailedWithoutRetry), s.Name, "failed_without_retry")
	retryCalls.emit(ch, float64(s.FailedWithRetry), s.Name, "failed_with_retry")
	retryRetries.emit(ch, float64(s.Retries), s.Name)
	retryExhausted.emit(ch, float64(s.Exhausted), s.Name)
}

func collectBudget(ch metrics, name string, s backoff.BudgetSnapshot) {
	budgetAvailable.emit(ch, float64(s.Available), name)
	budgetWindow.emit(ch, float64(s.Requests), name, "requests")
	budgetWindow.emit(ch, float64(s.Retries), name, "retries")
	budgetWindow.emit(ch, float64(s.Refusals), name, "refusals")
}

func collectLimiter(ch metrics, s ratelimit.Snapshot) {
	rlAvailable.emit(ch, float64(s.Tokens), s.Name)
	rlRejected.emit(ch, float64(s.Rejected), s.Name)
}

func collectKeyed(ch metrics, s ratelimit.KeyedSnapshot) {
	rlKeys.emit(ch, float64(s.Keys), s.Name)
	rlKeyedRejected.emit(ch, float64(s.Limited), s.Name, "limited")
	rlKeyedRejected.emit(ch, float64(s.Refused), s.Name, "capacity")
	rlEvicted.emit(ch, float64(s.Evicted), s.Name)
	rlOverflow.emit(ch, float64(s.Overflowed), s.Name)
}

func collectBulkhead(ch metrics, s bulkhead.Snapshot) {
	bhAvailable.emit(ch, float64(max(s.MaxConcurrent-s.InFlight, 0)), s.Name)
	bhMax.emit(ch, float64(s.MaxConcurrent), s.Name)
	bhWaiting.emit(ch, float64(s.Queued), s.Name)
	bhRejected.emit(ch, float64(s.Rejected), s.Name, "full")
	bhRejected.emit(ch, float64(s.TimedOut), s.Name, "queue_timeout")
	bhWaited.emit(ch, float64(s.Waited), s.Name)
	bhAbandoned.emit(ch, float64(s.Abandoned), s.Name)
}

// collectAdaptive exports an adaptive limit as a bulkhead without a queue
// whose limit moves.
func collectAdaptive(ch metrics, s bulkhead.AdaptiveSnapshot) {
	bhAvailable.emit(ch, float64(max(s.Limit-s.InFlight, 0)), s.Name)
	bhMax.emit(ch, float64(s.Limit), s.Name)
	bhRejected.emit(ch, float64(s.Rejected), s.Name, "limit")
	bhDrops.emit(ch, float64(s.Drops), s.Name)
}

func collectTimeout(ch metrics, s timeout.Snapshot) {
	toCalls.emit(ch, float64(s.Timeouts), s.Name, "timeout")
	toAbandoned.emit(ch, float64(s.Abandoned), s.Name)
	toPanics.emit(ch, float64(s.Panics), s.Name)
}

func collectTarget(ch metrics, s health.TargetSnapshot) {
	hcStatus.emit(ch, flag(s.Status == health.Healthy), s.Name)
	for _, st := range healthStatuses {
		hcTargetStatus.emit(ch, flag(s.Status == st), s.Name, st.String())
	}
	hcProbes.emit(ch, float64(s.Probes), s.Name)
	hcProbeFailures.emit(ch, float64(s.Failures), s.Name)
	hcConsecutiveFailures.emit(ch, float64(s.ConsecutiveFailures), s.Name)
	hcProbeDuration.emit(ch, s.LastProbeDuration.Seconds(), s.Name)
}

func collectThrottle(ch metrics, s throttle.Snapshot) {
	thProbability.emit(ch, s.RejectionProbability, s.Name)
	thCalls.emit(ch, float64(s.Successes), s.Name, "successful")
	thCalls.emit(ch, float64(s.Failures), s.Name, "failed")
	thCalls.emit(ch, float64(s.Ignored), s.Name, "ignored")
	thCalls.emit(ch, float64(s.Throttled), s.Name, "throttled")
}

func collectHedger(ch metrics, s hedge.Snapshot) {
	hgCalls.emit(ch, float64(s.Calls), s.Name)
	hgHedges.emit(ch, float64(s.Hedges), s.Name)
	hgWins.emit(ch, float64(s.HedgeWins), s.Name)
	hgRefusals.emit(ch, float64(s.BudgetRefusals), s.Name)
	hgDelay.emit(ch, s.Delay.Seconds(), s.Name)
}

func collectInjector(ch metrics, s chaos.Snapshot) {
	fault := s.Kind.String()
	chOn.emit(ch, flag(s.On), s.Name, fault)
	chCalls.emit(ch, float64(s.Injected), s.Name, fault, "injected")
	chCalls.emit(ch, float64(s.Passed), s.Name, fault, "passed")
}
