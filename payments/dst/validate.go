package dst

import (
	"errors"
	"fmt"
	"time"

	"github.com/riprap-go/riprap/payments"
)

// The bounds of a world. A world runs on virtual time, but every payment
// and every fault window costs real work, so a world is refused when it
// could not run in seconds; each bound names its field.
const (
	minDuration  = time.Second
	maxDuration  = time.Hour
	maxRate      = 1000 // payments per second
	maxPayments  = 100000
	maxWindows   = 100
	maxFlaps     = 1000 // outages one flap window expands into
	maxCrashes   = 50
	maxLatency   = 10 * time.Minute
	maxDowntime  = 10 * time.Minute
	maxRetries   = 20
	maxBP        = 10000
	maxConfigDur = time.Hour
	maxWeight    = 10000 // gateway.Acquirer.Weight's bound
)

// Validate reports every field of w out of its bounds, as one error per
// field joined; nil when w can run. Run refuses a world Validate refuses;
// the gateway refuses a configuration its New refuses.
func (w World) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("dst: world.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if d := w.Duration.D(); d < minDuration || d > maxDuration {
		bad("duration", "must be in [%s, %s], got %s", minDuration, maxDuration, d)
	}
	w.Load.validate(w.Duration.D(), bad)
	w.Client.validate(bad)
	for _, f := range []struct {
		name string
		f    Faults
	}{{"bank", w.Bank}, {"fx", w.FX}, {"log", w.Log}} {
		f.f.validate(f.name, w.Duration.D(), bad)
	}
	if w.Bank2 != nil {
		w.Bank2.validate("bank2", w.Duration.D(), bad)
	}
	switch n := len(w.Gateway.BankWeights); {
	case n > 0 && w.Bank2 == nil:
		bad("gateway.bank_weights", "must be empty in a one-bank world, got %d weights", n)
	case n != 0 && n != 2:
		bad("gateway.bank_weights", "must hold no weight or one per bank (2), got %d", n)
	}
	for i, wt := range w.Gateway.BankWeights {
		if wt < 1 || wt > maxWeight {
			bad(fmt.Sprintf("gateway.bank_weights[%d]", i), "must be in [1, %d], got %d", maxWeight, wt)
		}
	}
	if len(w.Crashes) > maxCrashes {
		bad("crashes", "must hold at most %d, got %d", maxCrashes, len(w.Crashes))
	}
	for i, c := range w.Crashes {
		if c.At < 0 || c.At.D() >= w.Duration.D() {
			bad(fmt.Sprintf("crashes[%d].at", i), "must be in [0, duration), got %s", c.At)
		}
		if c.Downtime < 0 || c.Downtime.D() > maxDowntime {
			bad(fmt.Sprintf("crashes[%d].downtime", i), "must be in [0, %s], got %s", maxDowntime, c.Downtime)
		}
	}
	w.Gateway.validate(bad)
	return errors.Join(errs...)
}

type complain func(field, format string, args ...any)

func (l Load) validate(d time.Duration, bad complain) {
	switch l.Shape {
	case Steady, Bursts, Ramp:
	default:
		bad("load.shape", "must be %q, %q or %q, got %q", Steady, Bursts, Ramp, l.Shape)
	}
	if l.Rate < 1 || l.Rate > maxRate {
		bad("load.rate", "must be in [1, %d] payments per second, got %d", maxRate, l.Rate)
	}
	if l.Peak < 0 || l.Peak > maxRate {
		bad("load.peak", "must be in [0, %d] payments per second, got %d", maxRate, l.Peak)
	}
	if l.Shape == Bursts && (l.Every <= 0 || l.Length <= 0 || l.Length > l.Every) {
		bad("load", "bursts want 0 < length <= every, got length %s, every %s", l.Length, l.Every)
	}
	if n := int64(max(l.Rate, l.Peak)) * int64(d/time.Millisecond) / 1000; n > maxPayments {
		// Bursts and ramps reach their peak only part of the time.
		if n = int64(l.count(d)); n > maxPayments {
			bad("load", "must send at most %d payments, got %d", maxPayments, n)
		}
	}
	for _, p := range []struct {
		field string
		v     int
	}{{"cross_pct", l.Cross}, {"broke_pct", l.Broke}, {"reused_pct", l.Reused}} {
		if p.v < 0 || p.v > 100 {
			bad("load."+p.field, "must be in [0, 100], got %d", p.v)
		}
	}
}

func (c Client) validate(bad complain) {
	if c.Timeout < 0 || c.Timeout.D() > maxConfigDur {
		bad("client.timeout", "must be in [0, %s], got %s", maxConfigDur, c.Timeout)
	}
	if c.Retries < 0 || c.Retries > maxRetries {
		bad("client.retries", "must be in [0, %d], got %d", maxRetries, c.Retries)
	}
	if c.RetryWait < 0 || c.RetryWait.D() > maxConfigDur {
		bad("client.retry_wait", "must be in [0, %s], got %s", maxConfigDur, c.RetryWait)
	}
}

func (f Faults) validate(name string, d time.Duration, bad complain) {
	for _, p := range []struct {
		field string
		v     int
	}{{"error_bp", f.ErrorBP}, {"lost_reply_bp", f.LostReplyBP}, {"append_error_bp", f.AppendErrorBP},
		{"batch_error_bp", f.BatchErrorBP}} {
		if p.v < 0 || p.v > maxBP {
			bad(name+"."+p.field, "must be in [0, %d] basis points, got %d", maxBP, p.v)
		}
	}
	if name != "log" && f.AppendErrorBP+f.BatchErrorBP != 0 {
		bad(name, "append_error_bp and batch_error_bp apply to the log only")
	}
	for _, l := range []struct {
		field string
		v     Duration
	}{{"latency", f.Latency}, {"jitter", f.Jitter}} {
		if l.v < 0 || l.v.D() > maxLatency {
			bad(name+"."+l.field, "must be in [0, %s], got %s", maxLatency, l.v)
		}
	}
	if len(f.Windows) > maxWindows {
		bad(name+".windows", "must hold at most %d, got %d", maxWindows, len(f.Windows))
		return
	}
	for i, w := range f.Windows {
		w.validate(fmt.Sprintf("%s.windows[%d]", name, i), d, bad)
	}
}

func (w Window) validate(field string, d time.Duration, bad complain) {
	if w.Start < 0 || w.End <= w.Start || w.End.D() > d {
		bad(field, "want 0 <= start < end <= duration (%s), got start %s, end %s", d, w.Start, w.End)
	}
	switch w.Kind {
	case Outage, Hang:
	case Slowdown:
		if w.Extra <= 0 || w.Extra.D() > maxLatency {
			bad(field+".extra", "must be in (0, %s] for a slowdown, got %s", maxLatency, w.Extra)
		}
	case Errors:
		if w.ErrorBP < 1 || w.ErrorBP > maxBP {
			bad(field+".error_bp", "must be in [1, %d] for an errors window, got %d", maxBP, w.ErrorBP)
		}
	case Flap:
		if w.Period < Duration(time.Millisecond) || (w.End-w.Start)/w.Period > 2*maxFlaps {
			bad(field+".period", "must be at least 1ms and split the window into at most %d outages, got %s", maxFlaps, w.Period)
		}
	default:
		bad(field+".kind", "must be %q, %q, %q, %q or %q, got %q", Outage, Hang, Slowdown, Errors, Flap, w.Kind)
	}
}

func (c Config) validate(bad complain) {
	for _, f := range []struct {
		field string
		v     Duration
	}{{"claim_ttl", c.ClaimTTL}, {"bank_timeout", c.BankTimeout}, {"bank_max_retry_after", c.BankMaxRetryAfter},
		{"bank_max_wait", c.BankMaxWait}, {"fx_timeout", c.FXTimeout}, {"fx_max_staleness", c.FXMaxStaleness},
		{"log_timeout", c.LogTimeout}, {"log_replay_interval", c.LogReplayInterval},
		{"health_interval", c.HealthInterval}, {"health_unhealthy_interval", c.HealthUnhealthyInterval},
		{"health_timeout", c.HealthTimeout}, {"reconcile_interval", c.ReconcileInterval},
		{"reconcile_max_interval", c.ReconcileMaxInterval}} {
		if f.v < 0 || f.v.D() > maxConfigDur {
			bad("gateway."+f.field, "must be in [0, %s], got %s", maxConfigDur, f.v)
		}
	}
	for _, f := range []struct {
		field string
		v, hi int
	}{{"bank_attempts", c.BankAttempts, 20}, {"bank_rate", c.BankRate, 100000}, {"bank_burst", c.BankBurst, 100000},
		{"log_batch_size", c.LogBatchSize, payments.MaxLogBatch}, {"log_max_in_flight", c.LogMaxInFlight, 64},
		{"health_failures", c.HealthFailures, 100}, {"health_successes", c.HealthSuccesses, 100},
		{"max_outbox", c.MaxOutbox, 1 << 20}} {
		if f.v < 0 || f.v > f.hi {
			bad("gateway."+f.field, "must be in [0, %d], got %d", f.hi, f.v)
		}
	}
	for _, b := range []struct {
		field string
		b     Breaker
	}{{"bank_breaker", c.BankBreaker}, {"status_breaker", c.StatusBreaker}, {"fx_breaker", c.FXBreaker},
		{"log_breaker", c.LogBreaker}} {
		b.b.validate("gateway."+b.field, bad)
	}
}

func (b Breaker) validate(field string, bad complain) {
	if b.FailureRate < 0 || b.FailureRate > 1 || b.FailureRate != b.FailureRate {
		bad(field+".failure_rate", "must be in [0, 1], got %v", b.FailureRate)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"consecutive_failures", b.ConsecutiveFailures}, {"window_size", b.WindowSize},
		{"minimum_calls", b.MinimumCalls}, {"max_probes", b.MaxProbes}, {"successes_to_close", b.SuccessesToClose}} {
		if f.v < 0 || f.v > 100000 {
			bad(field+"."+f.name, "must be in [0, 100000], got %d", f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    Duration
	}{{"open_wait", b.OpenWait}, {"max_open_wait", b.MaxOpenWait}} {
		if f.v < 0 || f.v.D() > maxConfigDur {
			bad(field+"."+f.name, "must be in [0, %s], got %s", maxConfigDur, f.v)
		}
	}
}
