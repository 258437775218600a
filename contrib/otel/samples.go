package riprapotel

import (
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

func (ob observer) breaker(s breaker.Snapshot) {
	for _, st := range breakerStates {
		ob.emit(cbState, flag(s.State == st), s.Name, st.String())
	}
	ob.emit(cbCalls, float64(s.Successes), s.Name, "successful")
	ob.emit(cbCalls, float64(s.Failures), s.Name, "failed")
	ob.emit(cbCalls, float64(s.Ignored), s.Name, "ignored")
	ob.emit(cbCalls, float64(s.Rejected), s.Name, "not_permitted")
	ob.emit(cbSlowCalls, float64(s.Slow), s.Name)
	ob.emit(cbFailureRate, s.FailureRate, s.Name)
	ob.emit(cbSlowCallRate, s.SlowCallRate, s.Name)
	ob.emit(cbBufferedCalls, float64(s.WindowCalls), s.Name)
	ob.emit(cbConsecutiveFailures, float64(s.ConsecutiveFailures), s.Name)
	ob.emit(cbTransitions, float64(s.Generation), s.Name)
}

func (ob observer) retry(s backoff.RetrySnapshot) {
	ob.emit(retryCalls, float64(s.SuccessfulWithoutRetry), s.Name, "successful_without_retry")
	ob.emit(retryCalls, float64(s.SuccessfulWithRetry), s.Name, "successful_with_retry")
	ob.emit(retryCalls, float64(s.FailedWithoutRetry), s.Name, "failed_without_retry")
	ob.emit(retryCalls, float64(s.FailedWithRetry), s.Name, "failed_with_retry")
	ob.emit(retryRetries, float64(s.Retries), s.Name)
	ob.emit(retryExhausted, float64(s.Exhausted), s.Name)
}

func (ob observer) budget(name string, s backoff.BudgetSnapshot) {
	ob.emit(budgetAvailable, float64(s.Available), name)
	ob.emit(budgetWindow, float64(s.Requests), name, "requests")
	ob.emit(budgetWindow, float64(s.Retries), name, "retries")
	ob.emit(budgetWindow, float64(s.Refusals), name, "refusals")
}

func (ob observer) limiter(s ratelimit.Snapshot) {
	ob.emit(rlAvailable, float64(s.Tokens), s.Name)
	ob.emit(rlRejected, float64(s.Rejected), s.Name)
}

func (ob observer) keyed(s ratelimit.KeyedSnapshot) {
	ob.emit(rlKeys, float64(s.Keys), s.Name)
	ob.emit(rlKeyedRejected, float64(s.Limited), s.Name, "limited")
	ob.emit(rlKeyedRejected, float64(s.Refused), s.Name, "capacity")
	ob.emit(rlEvicted, float64(s.Evicted), s.Name)
	ob.emit(rlOverflow, float64(s.Overflowed), s.Name)
}

func (ob observer) bulkhead(s bulkhead.Snapshot) {
	ob.emit(bhAvailable, float64(max(s.MaxConcurrent-s.InFlight, 0)), s.Name)
	ob.emit(bhMax, float64(s.MaxConcurrent), s.Name)
	ob.emit(bhWaiting, float64(s.Queued), s.Name)
	ob.emit(bhRejected, float64(s.Rejected), s.Name, "full")
	ob.emit(bhRejected, float64(s.TimedOut), s.Name, "queue_timeout")
	ob.emit(bhWaited, float64(s.Waited), s.Name)
	ob.emit(bhAbandoned, float64(s.Abandoned), s.Name)
}

// adaptive exports an adaptive limit as a bulkhead without a queue
// whose limit moves.
func (ob observer) adaptive(s bulkhead.AdaptiveSnapshot) {
	ob.emit(bhAvailable, float64(max(s.Limit-s.InFlight, 0)), s.Name)
	ob.emit(bhMax, float64(s.Limit), s.Name)
	ob.emit(bhRejected, float64(s.Rejected), s.Name, "limit")
	ob.emit(bhDrops, float64(s.Drops), s.Name)
}

func (ob observer) timeout(s timeout.Snapshot) {
	ob.emit(toCalls, float64(s.Timeouts), s.Name, "timeout")
	ob.emit(toAbandoned, float64(s.Abandoned), s.Name)
	ob.emit(toPanics, float64(s.Panics), s.Name)
}

func (ob observer) target(s health.TargetSnapshot) {
	ob.emit(hcStatus, flag(s.Status == health.Healthy), s.Name)
	for _, st := range healthStatuses {
		ob.emit(hcTargetStatus, flag(s.Status == st), s.Name, st.String())
	}
	ob.emit(hcProbes, float64(s.Probes), s.Name)
	ob.emit(hcProbeFailures, float64(s.Failures), s.Name)
	ob.emit(hcConsecutiveFailures, float64(s.ConsecutiveFailures), s.Name)
	ob.emit(hcProbeDuration, s.LastProbeDuration.Seconds(), s.Name)
}

func (ob observer) throttle(s throttle.Snapshot) {
	ob.emit(thProbability, s.RejectionProbability, s.Name)
	ob.emit(thCalls, float64(s.Successes), s.Name, "successful")
	ob.emit(thCalls, float64(s.Failures), s.Name, "failed")
	ob.emit(thCalls, float64(s.Ignored), s.Name, "ignored")
	ob.emit(thCalls, float64(s.Throttled), s.Name, "throttled")
}

func (ob observer) hedger(s hedge.Snapshot) {
	ob.emit(hgCalls, float64(s.Calls), s.Name)
	ob.emit(hgHedges, float64(s.Hedges), s.Name)
	ob.emit(hgWins, float64(s.HedgeWins), s.Name)
	ob.emit(hgRefusals, float64(s.BudgetRefusals), s.Name)
	ob.emit(hgDelay, s.Delay.Seconds(), s.Name)
}

func (ob observer) injector(s chaos.Snapshot) {
	fault := s.Kind.String()
	ob.emit(chOn, flag(s.On), s.Name, fault)
	ob.emit(chCalls, float64(s.Injected), s.Name, fault, "injected")
	ob.emit(chCalls, float64(s.Passed), s.Name, fault, "passed")
}
