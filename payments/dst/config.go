package dst

import (
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// gatewayConfig is the configuration a world gives each gateway it starts,
// less what the run supplies (clients, store, clock, instance, listeners):
// see [runner.gatewayConfig], which also moves the bank policy onto two
// acquirers in a two-bank world.
func (c Config) gatewayConfig() gateway.Config {
	g := gateway.Config{ClaimTTL: c.ClaimTTL.D(),
		ReconcileInterval: c.ReconcileInterval.D(), ReconcileMaxInterval: c.ReconcileMaxInterval.D()}
	g.BankPolicy = gateway.BankPolicy{Burst: c.BankBurst, MaxWait: c.BankMaxWait.D(),
		Breaker: c.BankBreaker.config(), StatusBreaker: c.StatusBreaker.config(), Attempts: c.BankAttempts,
		MaxRetryAfter: c.BankMaxRetryAfter.D(), Timeout: c.BankTimeout.D()}
	if c.BankRate > 0 {
		g.BankPolicy.Rate = ratelimit.PerSecond(c.BankRate)
	}
	g.FXPolicy = gateway.FXPolicy{Breaker: c.FXBreaker.config(), Timeout: c.FXTimeout.D(), MaxStaleness: c.FXMaxStaleness.D()}
	g.LogPolicy = gateway.LogPolicy{Breaker: c.LogBreaker.config(), Timeout: c.LogTimeout.D(), BatchSize: c.LogBatchSize,
		MaxInFlight: c.LogMaxInFlight, ReplayInterval: c.LogReplayInterval.D()}
	g.Health = gateway.HealthPolicy{Disabled: c.HealthDisabled, Interval: c.HealthInterval.D(),
		UnhealthyInterval: c.HealthUnhealthyInterval.D(), Timeout: c.HealthTimeout.D(),
		FailuresToUnhealthy: c.HealthFailures, SuccessesToHealthy: c.HealthSuccesses, CloseOnHealthy: c.CloseOnHealthy}
	return g
}

func (b Breaker) config() breaker.Config {
	return breaker.Config{ConsecutiveFailures: b.ConsecutiveFailures, FailureRate: b.FailureRate,
		WindowSize: b.WindowSize, MinimumCalls: b.MinimumCalls, OpenWait: b.OpenWait.D(),
		MaxOpenWait: b.MaxOpenWait.D(), MaxProbes: b.MaxProbes, SuccessesToClose: b.SuccessesToClose}
}

// settled is a world's configuration with the gateway's documented
// defaults applied: the figures the invariants judge by (call timeouts,
// bounds). It mirrors gateway.Config's and store.Config's documented
// defaults.
type settled struct {
	bankTimeout, fxTimeout        time.Duration
	logTimeout                    time.Duration
	attempts                      int
	maxRetryAfter                 time.Duration
	batchSize, maxInFlight        int
	maxOutbox                     int
	reconcile, reconcileMax       time.Duration
	healthOn                      bool
	interval, unhealthy, probeMax time.Duration
	successes                     int
	openWait                      map[string]time.Duration // the longest a breaker may stay open at a time
}

func (c Config) settle() settled {
	s := settled{bankTimeout: or(c.BankTimeout.D(), 2*time.Second),
		fxTimeout: or(c.FXTimeout.D(), time.Second), logTimeout: or(c.LogTimeout.D(), time.Second),
		attempts: or(c.BankAttempts, 3), maxRetryAfter: or(c.BankMaxRetryAfter.D(), 500*time.Millisecond), batchSize: or(c.LogBatchSize, payments.MaxLogBatch),
		maxInFlight: or(c.LogMaxInFlight, 4), maxOutbox: or(c.MaxOutbox, store.DefaultMaxOutbox),
		reconcile: or(c.ReconcileInterval.D(), 500*time.Millisecond), healthOn: !c.HealthDisabled,
		interval: or(c.HealthInterval.D(), time.Second), successes: or(c.HealthSuccesses, 1)}
	s.reconcileMax = max(or(c.ReconcileMaxInterval.D(), 10*time.Second), s.reconcile)
	s.unhealthy = or(c.HealthUnhealthyInterval.D(), s.interval/4)
	s.probeMax = max(c.HealthTimeout.D(), s.bankTimeout, s.fxTimeout, s.logTimeout, s.unhealthy/2)
	s.openWait = map[string]time.Duration{"bank": c.BankBreaker.longestOpen(), "bank-status": c.StatusBreaker.longestOpen(),
		"bank2": c.BankBreaker.longestOpen(), "bank2-status": c.StatusBreaker.longestOpen(),
		"fx": c.FXBreaker.longestOpen(), "log": c.LogBreaker.longestOpen()}
	return s
}

// defaultBankBackoffMax is the longest wait of the bank's backoff between
// attempts, the gateway's default.
const defaultBankBackoffMax = time.Second

// claimFloor is the least ClaimTTL gateway.New accepts for c with banks
// acquirers sharing the bank policy (see gateway.Config.ClaimTTL): the
// longest of a payment (an FX quote, then a transfer at every bank in
// turn), a reconciler check (a status lookup and a transfer at one bank)
// and a log append. A transfer is the rate limiter's wait and every
// attempt with the longest backoff and Retry-After after it.
func (c Config) claimFloor(banks int) time.Duration {
	s := c.settle()
	transfer := c.BankMaxWait.D() + time.Duration(s.attempts)*(s.bankTimeout+defaultBankBackoffMax+s.maxRetryAfter)
	pay := s.fxTimeout + time.Duration(max(banks, 1))*transfer
	return max(pay, s.bankTimeout+transfer, s.logTimeout)
}

// longestOpen is the longest wait of one opening of the breaker: the
// gateway's default grows from 2s up to 30s; a set OpenWait is capped by
// MaxOpenWait (default 1 minute, or OpenWait when longer), and so is a
// Retry-After that lengthens it.
func (b Breaker) longestOpen() time.Duration {
	if b.OpenWait == 0 {
		return or(b.MaxOpenWait.D(), 30*time.Second)
	}
	return max(or(b.MaxOpenWait.D(), breaker.DefaultMaxOpenWait), b.OpenWait.D())
}

// callTimeout is the timeout of one call to the named dependency.
func (s settled) callTimeout(dep string) time.Duration {
	switch dep {
	case "bank", "bank2":
		return s.bankTimeout
	case "fx":
		return s.fxTimeout
	}
	return s.logTimeout
}

func or[V comparable](v, def V) V {
	var zero V
	if v == zero {
		return def
	}
	return v
}
