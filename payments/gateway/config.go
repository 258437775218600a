package gateway

import (
	"errors"
	"fmt"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/outbox"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// Config configures a [Gateway]. Bank, FX and Log are required; every other
// zero value means the default documented on its field.
type Config struct {
	Bank payments.Bank
	FX   payments.FX
	Log  payments.Log
	// Outbox holds log entries that could not be appended yet. Nil means
	// an in-memory outbox of 10 000 entries; use outbox.OpenFile for one
	// that survives a crash.
	Outbox outbox.Outbox
	// Registry receives the breakers "bank", "fx" and "log"; nil means a
	// registry of the gateway's own (see [Gateway.Registry]). A breaker
	// already registered under one of those names is used as it is: its
	// configuration wins over the policies below.
	Registry *breaker.Registry
	// Clock supplies time to every policy; nil means the real clock.
	Clock clock.Clock
	// Listeners receive the events of every policy and health check.
	Listeners resilience.Listeners

	BankPolicy BankPolicy
	FXPolicy   FXPolicy
	LogPolicy  LogPolicy
	Health     HealthPolicy

	// ReconcileInterval is how often pending payments are looked up at
	// the bank (default 500ms); each one backs off from there, up to
	// ReconcileMaxInterval (default 10s).
	ReconcileInterval    time.Duration
	ReconcileMaxInterval time.Duration
	// NotProcessed tells an error that proves the bank did nothing (so the
	// payment is rejected, safe to retry) from one whose effect is unknown
	// (so it is pending reconciliation). Nil means httpapi.NotProcessed
	// or a rejection by a policy.
	NotProcessed func(error) bool

	realClock bool // Clock was nil: policies may use the real clock's fast paths
}

// BankPolicy configures the bank's pipeline.
type BankPolicy struct {
	// Rate and Burst limit transfers sent to the bank; a zero Rate means
	// no limit. A transfer waits up to MaxWait for its turn, then is
	// rejected (default 0: rejected at once).
	Rate    ratelimit.Rate
	Burst   int
	MaxWait time.Duration
	// Breaker configures the bank's breaker (its Name is set to "bank").
	// Zero means: open after 5 consecutive failures for 2s, growing ×2 on
	// each re-open up to 30s; declines count as successes.
	Breaker breaker.Config
	// Attempts bounds tries per transfer (default 3), with Backoff between
	// them (default exponential from 50ms, full jitter, up to 1s), within
	// Budget (default a shared retry budget of 20% + 10/s).
	Attempts int
	Backoff  backoff.Strategy
	Budget   *backoff.Budget
	// MaxRetryAfter caps how long a retry waits for a bank's Retry-After
	// hint (default 500ms): a customer is waiting, so an overloaded bank
	// turns into a quick rejection that carries the hint rather than a
	// long wait inside Pay.
	MaxRetryAfter time.Duration
	// Timeout bounds one attempt (default 2s).
	Timeout time.Duration
}

// FXPolicy configures the FX pipeline.
type FXPolicy struct {
	// Breaker configures the FX breaker (its Name is set to "fx"); zero
	// means the same defaults as the bank's.
	Breaker breaker.Config
	// Timeout bounds one quote (default 1s).
	Timeout time.Duration
	// MaxStaleness is the age up to which the last good quote of a pair
	// stands in when FX fails (default 10 minutes).
	MaxStaleness time.Duration
}

// LogPolicy configures the transaction log's pipeline and the outbox replay.
type LogPolicy struct {
	// Breaker configures the log's breaker (its Name is set to "log").
	Breaker breaker.Config
	// Timeout bounds one append (default 1s). Appends run in the
	// replayer, never in Pay.
	Timeout time.Duration
	// ReplayInterval is how often the outbox is replayed besides when a
	// payment queues an entry and when the log's breaker closes (default 1s).
	ReplayInterval time.Duration
}

// HealthPolicy configures the health checks of dependencies whose client
// has a method Health(context.Context) error.
type HealthPolicy struct {
	// Disabled turns health checks off.
	Disabled bool
	// Interval between probes (default 1s); UnhealthyInterval while a
	// dependency is down (default Interval/4); Timeout per probe (default
	// half the shorter interval).
	Interval          time.Duration
	UnhealthyInterval time.Duration
	Timeout           time.Duration
	// FailuresToUnhealthy (default 2) and SuccessesToHealthy (default 1).
	FailuresToUnhealthy int
	SuccessesToHealthy  int
	// CloseOnHealthy closes a recovered dependency's breaker at once
	// instead of letting real traffic confirm the recovery in half-open.
	CloseOnHealthy bool
}

func (c *Config) validate() error {
	var errs []error
	if c.Bank == nil {
		errs = append(errs, errors.New("gateway: Bank is required"))
	}
	if c.FX == nil {
		errs = append(errs, errors.New("gateway: FX is required"))
	}
	if c.Log == nil {
		errs = append(errs, errors.New("gateway: Log is required"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"BankPolicy.MaxWait", c.BankPolicy.MaxWait}, {"BankPolicy.Timeout", c.BankPolicy.Timeout},
		{"BankPolicy.MaxRetryAfter", c.BankPolicy.MaxRetryAfter},
		{"FXPolicy.Timeout", c.FXPolicy.Timeout}, {"FXPolicy.MaxStaleness", c.FXPolicy.MaxStaleness},
		{"LogPolicy.Timeout", c.LogPolicy.Timeout}, {"LogPolicy.ReplayInterval", c.LogPolicy.ReplayInterval},
		{"ReconcileInterval", c.ReconcileInterval}, {"ReconcileMaxInterval", c.ReconcileMaxInterval},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("gateway: %s must not be negative, got %s", d.name, d.v))
		}
	}
	if c.BankPolicy.Attempts < 0 {
		errs = append(errs, fmt.Errorf("gateway: BankPolicy.Attempts must not be negative, got %d", c.BankPolicy.Attempts))
	}
	return errors.Join(errs...)
}

func (c *Config) setDefaults() {
	if c.Clock == nil {
		c.Clock, c.realClock = clock.New(), true
	}
	if c.Registry == nil {
		c.Registry = &breaker.Registry{}
	}
	c.BankPolicy.Attempts = or(c.BankPolicy.Attempts, 3)
	c.BankPolicy.Timeout = or(c.BankPolicy.Timeout, 2*time.Second)
	c.BankPolicy.MaxRetryAfter = or(c.BankPolicy.MaxRetryAfter, 500*time.Millisecond)
	c.FXPolicy.Timeout = or(c.FXPolicy.Timeout, time.Second)
	c.FXPolicy.MaxStaleness = or(c.FXPolicy.MaxStaleness, 10*time.Minute)
	c.LogPolicy.Timeout = or(c.LogPolicy.Timeout, time.Second)
	c.LogPolicy.ReplayInterval = or(c.LogPolicy.ReplayInterval, time.Second)
	c.ReconcileInterval = or(c.ReconcileInterval, 500*time.Millisecond)
	c.ReconcileMaxInterval = or(c.ReconcileMaxInterval, 10*time.Second)
	if c.NotProcessed == nil {
		c.NotProcessed = func(err error) bool { return resilience.IsRejected(err) || httpapi.NotProcessed(err) }
	}
	h := &c.Health
	h.Interval = or(h.Interval, time.Second)
	h.UnhealthyInterval = or(h.UnhealthyInterval, h.Interval/4)
	h.Timeout = or(h.Timeout, min(h.Interval, h.UnhealthyInterval)/2)
	h.FailuresToUnhealthy = or(h.FailuresToUnhealthy, 2)
	h.SuccessesToHealthy = or(h.SuccessesToHealthy, 1)
}

// breakerConfig fills a dependency's breaker configuration.
func (c *Config) breakerConfig(name string, bc breaker.Config) (breaker.Config, error) {
	bc.Name = name
	if bc.Clock == nil {
		bc.Clock = c.Clock
	}
	if bc.Classifier == nil {
		bc.Classifier = httpapi.Outcome
	}
	if bc.OpenWait == 0 && bc.OpenBackoff == nil {
		bc.OpenWait = 2 * time.Second
		s, err := backoff.NewExponential(backoff.ExponentialConfig{Initial: 2 * time.Second, Multiplier: 2, Max: 30 * time.Second})
		if err != nil {
			return bc, err
		}
		bc.OpenBackoff = s
		bc.MaxOpenWait = or(bc.MaxOpenWait, 30*time.Second)
	}
	bc.Listeners = append(append(resilience.Listeners(nil), c.Listeners...), bc.Listeners...)
	return bc, nil
}

func or[V comparable](v, def V) V {
	var zero V
	if v == zero {
		return def
	}
	return v
}
