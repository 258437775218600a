package dst

import (
	"time"

	"pgregory.net/rapid"
)

// drawConfig draws the gateway's configuration: every field its default
// or a value the gateway accepts: the health probe's timeout never below
// the calls it protects, the claim never shorter than the work done under
// it (both of which gateway.New refuses). banks is how many acquirers the
// world has.
func drawConfig(t *rapid.T, banks int) Config {
	c := Config{BankTimeout: drawDur(t, "bank_timeout", 50, 5000, 0), BankAttempts: drawInt(t, "bank_attempts", 1, 5),
		BankMaxRetryAfter: drawDur(t, "bank_max_retry_after", 1, 2000, 0), BankRate: drawInt(t, "bank_rate", 1, 100),
		BankBreaker: drawBreaker(t, "bank_breaker"), StatusBreaker: drawBreaker(t, "status_breaker"),
		FXTimeout: drawDur(t, "fx_timeout", 50, 3000, 0), FXMaxStaleness: drawDur(t, "fx_max_staleness", 1000, 1200000, 0),
		FXBreaker: drawBreaker(t, "fx_breaker"), LogTimeout: drawDur(t, "log_timeout", 50, 3000, 0),
		LogBatchSize: drawInt(t, "log_batch_size", 1, 500), LogMaxInFlight: drawInt(t, "log_max_in_flight", 1, 8),
		LogReplayInterval: drawDur(t, "log_replay_interval", 50, 5000, 0), LogBreaker: drawBreaker(t, "log_breaker"),
		ReconcileInterval:    drawDur(t, "reconcile_interval", 50, 3000, 0),
		ReconcileMaxInterval: drawDur(t, "reconcile_max_interval", 100, 30000, 0),
		MaxOutbox:            drawInt(t, "max_outbox", 5, 500)}
	if c.BankRate > 0 {
		c.BankBurst = drawInt(t, "bank_burst", 1, 20)
		c.BankMaxWait = drawDur(t, "bank_max_wait", 1, 2000, 0)
	}
	// A ClaimTTL below the work done under one claim is refused by
	// gateway.New (it would cut calls a working bank answers in time).
	claimMs := int((c.claimFloor(banks) + time.Millisecond - 1) / time.Millisecond)
	c.ClaimTTL = drawDur(t, "claim_ttl", claimMs, claimMs+180000, 0)
	if banks == 2 && rapid.Bool().Draw(t, "bank_weights_set") {
		c.BankWeights = []int{rapid.IntRange(1, 5).Draw(t, "bank_weight"), rapid.IntRange(1, 5).Draw(t, "bank2_weight")}
	}
	c.HealthDisabled = rapid.IntRange(0, 9).Draw(t, "health_disabled") == 9
	if c.HealthDisabled {
		return c
	}
	c.HealthInterval = drawDur(t, "health_interval", 100, 5000, 0)
	interval := int(or(c.HealthInterval.D(), time.Second) / time.Millisecond)
	c.HealthUnhealthyInterval = drawDur(t, "health_unhealthy_interval", min(50, interval), interval, 0)
	s := c.settle()
	floor := int(max(s.bankTimeout, s.fxTimeout, s.logTimeout) / time.Millisecond)
	c.HealthTimeout = drawDur(t, "health_timeout", floor, floor+3000, 0)
	c.HealthFailures = drawInt(t, "health_failures", 1, 5)
	c.HealthSuccesses = drawInt(t, "health_successes", 1, 5)
	c.CloseOnHealthy = rapid.Bool().Draw(t, "close_on_healthy")
	return c
}

// drawBreaker draws a breaker's configuration: the gateway's default, or
// a consecutive-failures or failure-rate rule with its own waits and
// probes.
func drawBreaker(t *rapid.T, label string) Breaker {
	if !rapid.Bool().Draw(t, label+"_set") {
		return Breaker{}
	}
	var b Breaker
	if rapid.Bool().Draw(t, label+"_rate") {
		b.FailureRate = float64(rapid.IntRange(1, 10).Draw(t, label+"_failure_rate_tenths")) / 10
		b.WindowSize = rapid.SampledFrom([]int{10, 20, 50, 100}).Draw(t, label+"_window_size")
		// A full count window holds at least WindowSize-WindowSize/10+1
		// calls (10 buckets): MinimumCalls above it is barely reachable.
		b.MinimumCalls = drawInt(t, label+"_minimum_calls", 1, b.WindowSize-b.WindowSize/10+1)
	} else {
		b.ConsecutiveFailures = rapid.IntRange(1, 10).Draw(t, label+"_consecutive")
	}
	b.OpenWait = drawDur(t, label+"_open_wait", 100, 10000, 0)
	// The gateway's default open wait starts at 2s: a cap must not be
	// below the first wait.
	floor := int(or(b.OpenWait.D(), 2*time.Second) / time.Millisecond)
	b.MaxOpenWait = drawDur(t, label+"_max_open_wait", floor, 60000, 0)
	b.MaxProbes = drawInt(t, label+"_max_probes", 1, 5)
	b.SuccessesToClose = drawInt(t, label+"_successes_to_close", 1, 5)
	return b
}
