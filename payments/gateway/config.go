package gateway

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// Config configures a [Gateway]. A bank (Bank, or Acquirers), FX and Log
// are required, so the zero Config is refused; every other zero value means
// the default documented on its field. New copies it.
type Config struct {
	// Bank is the one bank of a single-bank gateway: an acquirer named
	// "bank", configured by BankPolicy. Set Bank or Acquirers, not both.
	Bank payments.Bank
	// Acquirers are the banks of a gateway with several, in priority
	// order, each with pipelines of its own; see the package doc for how a
	// payment is routed among them and when it fails over to the next.
	Acquirers []Acquirer
	FX        payments.FX
	Log       payments.Log

	// Store is the gateway's memory: the ledger of payments and the outbox
	// of log entries, written together (see the package doc). Nil means a
	// new store.NewMemory with the default bound, which is NOT durable: a
	// restarted process forgets every payment, so use it for tests, demos
	// and benchmarks only. A store given here is never replaced, even when
	// it fails: the gateway then refuses payments. Close does not close it.
	Store store.Store
	// Instance names this gateway in the store's claims and leases. A
	// gateway started with the Instance of a previous run ends that run's
	// claims at once (store.Ledger.Expire), so its unfinished payments are
	// resumed without waiting for ClaimTTL. Empty means a random name per
	// process: safe anywhere, but a crashed run's claims then last until
	// they expire. In a fleet, give each process its own stable name (a
	// pod or host name): two live gateways sharing one Instance would end
	// each other's claims when either starts — the bank's idempotency keys
	// still prevent a double debit, but work is done twice.
	Instance string
	// ClaimTTL is how long a claim on a payment (a call of Pay, a
	// reconciler check) and a lease on log entries last. A claimant's
	// calls to the bank end when its claim does, so another instance
	// taking an expired claim over never races a call in flight.
	//
	// It must cover the longest work done under one claim, or its deadline
	// would cut calls that a working bank answers in time (and the bank's
	// breakers would count them as failures): New refuses a ClaimTTL below
	// the longest of
	//
	//   - a payment: FXPolicy.Timeout, plus for each acquirer (a payment
	//     fails over under one claim) MaxWait + Attempts × (Timeout + the
	//     longest Backoff delay + MaxRetryAfter);
	//   - a reconciler check at one acquirer: its Timeout (the status
	//     lookup) plus that acquirer's term above;
	//   - LogPolicy.Timeout (a log append, under a lease).
	//
	// A Backoff that does not report its longest delay (backoff.Bound)
	// counts as 0 there. [Config.MinClaimTTL] computes the floor. Zero
	// means 1 minute, or twice the floor when that is longer; with the
	// default policies the floor is 12.5s.
	ClaimTTL time.Duration
	// Rand, when set, is the source of every random draw of the gateway's
	// own policies — the jitter of each acquirer's default Backoff and of
	// the reconciler's spacing of checks — so that a simulation replays
	// from a seed. New draws from it once per consumer to seed each a
	// stream of its own, and never again, so it need not be safe for
	// concurrent use. Nil means math/rand/v2's global source. Policies
	// given in the Config (a BankPolicy.Backoff) keep their own sources.
	Rand rand.Source

	// Registry receives the breakers "bank" and "bank-status" (for each
	// acquirer, its Name and Name+"-status"), "fx" and "log"; nil means a registry of the gateway's own (see
	// [Gateway.Registry]). A breaker already registered under one of those
	// names is shared when its configuration matches the policy's, and New
	// fails with an error matching breaker.ErrConfigMismatch when it does
	// not.
	Registry *breaker.Registry
	// Clock supplies time to every policy, the reconciler and the store's
	// leases; nil means the real clock, on its faster paths.
	Clock clock.Clock
	// Listeners receive the events of every policy and health check.
	Listeners resilience.Listeners
	// Logger receives the recovery report at start and the rare events an
	// operator must see (a store write that failed after the bank moved
	// money). Nil means slog.Default().
	Logger *slog.Logger

	// BankPolicy configures Bank's pipelines; with Acquirers, each has its
	// own Policy and BankPolicy must be zero.
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
	// payment is rejected, safe to retry, or offered to the next
	// acquirer) from one whose effect is unknown (so it is pending
	// reconciliation at that bank). Nil means httpapi.NotProcessed or a
	// rejection by a policy. A NotProcessed that says true of an error
	// that may hide a commit lets a payment be debited at two banks.
	NotProcessed func(error) bool
}

// BankPolicy configures a bank's pipelines (those of [Config.Bank], or of
// one [Acquirer]). Its zero value means the defaults documented on each
// field. The breakers are named after the acquirer: "bank" and
// "bank-status" for Config.Bank.
type BankPolicy struct {
	// Rate and Burst limit transfers sent to the bank; a zero Rate means
	// no limit. A transfer waits up to MaxWait for its turn, then is
	// rejected (default 0: rejected at once).
	Rate    ratelimit.Rate
	Burst   int
	MaxWait time.Duration
	// MaxConcurrent bounds the transfers in flight to the bank at once; a
	// transfer over the bound is rejected at once (with several
	// acquirers, it fails over to the next). Zero means no bound.
	MaxConcurrent int
	// Breaker configures the breaker of transfers, "bank". Zero means:
	// open after 5 consecutive failed payments for 2s, growing ×2 on each
	// re-open up to 30s; declines count as successes. A health check of the
	// bank holds this breaker open while the bank is down.
	Breaker breaker.Config
	// StatusBreaker configures the breaker of status lookups,
	// "bank-status", with the same defaults. It is not bound to the health
	// check: the reconciler learns what became of a pending payment even
	// while the transfer breaker is held open (see the package doc).
	StatusBreaker breaker.Config
	// Attempts bounds tries per transfer (default 3), with Backoff between
	// them (default exponential from 10ms, full jitter, up to 1s), within
	// Budget (default a retry budget of 20% + 10/s, one per bank; give
	// acquirers the same Budget to share one). The default first waits
	// are short on purpose: what bounds the load retries add is the
	// Budget, and what paces them is the bank's Retry-After (up to
	// MaxRetryAfter) and the breaker; a long first wait would only delay
	// the answer to a payment whose reply was lost, which with no
	// protection would simply have been "unknown" at once.
	Attempts int
	Backoff  backoff.Strategy
	Budget   *backoff.Budget
	// MaxRetryAfter is the longest Retry-After hint of a bank that a
	// transfer waits out before its next attempt (default 500ms): a
	// customer is waiting, so a bank asking for a longer pause is not
	// retried within the payment — it turns at once into a rejection that
	// carries the hint (or a failover to the next bank) rather than a
	// wait inside Pay that would end in the same refusal.
	MaxRetryAfter time.Duration
	// Timeout bounds one attempt, and one status lookup (default 2s). The
	// bank's health probe is never stricter than it.
	Timeout time.Duration
	// Inject are guards run innermost, inside each attempt's timeout,
	// around the bank call itself: fault injection (package chaos) that
	// rehearses an outage against the very pipelines a gateway runs in
	// production. An injected fault or result never reaches the bank, so
	// the payment counts as not attempted unless an earlier attempt
	// reached it; health probes bypass them.
	Inject []resilience.Guard
}

// FXPolicy configures the FX pipeline. Its zero value means the defaults
// documented on each field.
type FXPolicy struct {
	// Breaker configures the FX breaker, "fx"; zero means the same
	// defaults as the bank's.
	Breaker breaker.Config
	// Timeout bounds one quote (default 1s).
	Timeout time.Duration
	// MaxStaleness is the age up to which the last good quote of a pair
	// stands in when FX fails (default 10 minutes).
	MaxStaleness time.Duration
	// Inject are guards run innermost, around each quote, as
	// BankPolicy.Inject does for the bank.
	Inject []resilience.Guard
}

// LogPolicy configures the transaction log's pipeline and the outbox
// replay. Its zero value means the defaults documented on each field.
type LogPolicy struct {
	// Breaker configures the log's breaker, "log". A batch counts once,
	// whatever its size: a batch that failed whole, or whose every entry
	// failed, is one failure.
	Breaker breaker.Config
	// Timeout bounds one batch append (default 1s). Appends run in the
	// replayer, never in Pay.
	Timeout time.Duration
	// BatchSize bounds the entries of one append (default and maximum
	// payments.MaxLogBatch); MaxInFlight bounds the batches in flight at
	// once (default 4).
	BatchSize   int
	MaxInFlight int
	// ReplayInterval is how often the outbox is replayed besides when a
	// payment queues an entry and when the log's breaker lets calls through
	// again (default 1s).
	ReplayInterval time.Duration
	// Inject are guards run innermost, around each batch append, as
	// BankPolicy.Inject does for the bank.
	Inject []resilience.Guard
}

// HealthPolicy configures the health checks of dependencies whose client
// has a method Health(context.Context) error. Its zero value probes them
// with the defaults documented on each field.
type HealthPolicy struct {
	// Disabled turns health checks off.
	Disabled bool
	// Interval between probes (default 1s); UnhealthyInterval while a
	// dependency is down (default Interval/4).
	Interval          time.Duration
	UnhealthyInterval time.Duration
	// Timeout bounds one probe. Zero lets package health derive it from
	// the timeout of the calls each probe protects (BankPolicy.Timeout or
	// each acquirer's Policy.Timeout, FXPolicy.Timeout,
	// LogPolicy.Timeout): a probe never judges a
	// dependency by a stricter bar than its calls. A Timeout shorter than
	// one of those is refused by New.
	Timeout time.Duration
	// FailuresToUnhealthy (default 2) and SuccessesToHealthy (default 1).
	FailuresToUnhealthy int
	SuccessesToHealthy  int
	// CloseOnHealthy closes a recovered dependency's breaker at once
	// instead of letting real traffic confirm the recovery in half-open.
	CloseOnHealthy bool
}

// settings is a Config with its defaults applied, and what New derived.
type settings struct {
	Config
	realClock bool       // Clock was nil: policies take the real clock's fast paths
	ownStore  bool       // Store was nil: the gateway made an in-memory one
	acquirers []Acquirer // Acquirers, or Bank as one; policies with their defaults
}

func configError(field, rule string, v any) error {
	return &resilience.ConfigError{Component: "gateway", Field: field, Rule: rule, Value: v}
}

// validate returns a *resilience.ConfigError for each field cfg gets
// wrong, joined.
func (c *Config) validate() error {
	errs := c.validateBanks()
	for _, d := range []struct {
		name string
		set  bool
	}{{"FX", c.FX != nil}, {"Log", c.Log != nil}} {
		if !d.set {
			errs = append(errs, configError(d.name, "is required", nil))
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ClaimTTL", c.ClaimTTL},
		{"FXPolicy.Timeout", c.FXPolicy.Timeout}, {"FXPolicy.MaxStaleness", c.FXPolicy.MaxStaleness},
		{"LogPolicy.Timeout", c.LogPolicy.Timeout}, {"LogPolicy.ReplayInterval", c.LogPolicy.ReplayInterval},
		{"ReconcileInterval", c.ReconcileInterval}, {"ReconcileMaxInterval", c.ReconcileMaxInterval},
	} {
		if d.v < 0 {
			errs = append(errs, configError(d.name, "must not be negative", d.v))
		}
	}
	for _, d := range []struct {
		name string
		v    int
	}{{"LogPolicy.MaxInFlight", c.LogPolicy.MaxInFlight}} {
		if d.v < 0 {
			errs = append(errs, configError(d.name, "must not be negative", d.v))
		}
	}
	errs = append(errs, validateInject("FXPolicy.Inject", c.FXPolicy.Inject)...)
	errs = append(errs, validateInject("LogPolicy.Inject", c.LogPolicy.Inject)...)
	if b := c.LogPolicy.BatchSize; b < 0 || b > payments.MaxLogBatch {
		errs = append(errs, configError("LogPolicy.BatchSize", "must be in [0, payments.MaxLogBatch]", b))
	}
	return errors.Join(errs...)
}

// resolve validates cfg and fills in its defaults.
func resolve(cfg Config) (*settings, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &settings{Config: cfg}
	c := &s.Config
	if c.Clock == nil {
		c.Clock, s.realClock = clock.New(), true
	}
	if c.Registry == nil {
		c.Registry = &breaker.Registry{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Instance == "" {
		c.Instance = "gw-" + store.NewToken()[:12]
	}
	s.acquirers = c.acquirerConfigs()
	for i := range s.acquirers {
		pol := &s.acquirers[i].Policy
		*pol = pol.withDefaults()
		if pol.Backoff == nil {
			var err error
			if pol.Backoff, err = defaultBankBackoff(s.split()); err != nil {
				return nil, err
			}
		}
	}
	c.FXPolicy.Timeout = or(c.FXPolicy.Timeout, time.Second)
	c.FXPolicy.MaxStaleness = or(c.FXPolicy.MaxStaleness, 10*time.Minute)
	c.LogPolicy.Timeout = or(c.LogPolicy.Timeout, time.Second)
	c.LogPolicy.BatchSize = or(c.LogPolicy.BatchSize, payments.MaxLogBatch)
	c.LogPolicy.MaxInFlight = or(c.LogPolicy.MaxInFlight, 4)
	c.LogPolicy.ReplayInterval = or(c.LogPolicy.ReplayInterval, time.Second)
	c.ReconcileInterval = or(c.ReconcileInterval, 500*time.Millisecond)
	c.ReconcileMaxInterval = max(or(c.ReconcileMaxInterval, 10*time.Second), c.ReconcileInterval)
	if c.NotProcessed == nil {
		c.NotProcessed = func(err error) bool { return resilience.IsRejected(err) || httpapi.NotProcessed(err) }
	}
	if err := s.resolveClaimTTL(); err != nil {
		return nil, err
	}
	h := &c.Health
	h.Interval = or(h.Interval, time.Second)
	h.UnhealthyInterval = or(h.UnhealthyInterval, h.Interval/4)
	h.FailuresToUnhealthy = or(h.FailuresToUnhealthy, 2)
	h.SuccessesToHealthy = or(h.SuccessesToHealthy, 1)
	if c.Store == nil {
		mem, err := store.NewMemory(store.Config{})
		if err != nil {
			return nil, err
		}
		c.Store, s.ownStore = mem, true
	}
	return s, nil
}

// policyClock is the clock handed to policies: nil on the real clock, so
// that they take their faster real-clock paths.
func (s *settings) policyClock() clock.Clock {
	if s.realClock {
		return nil
	}
	return s.Clock
}

// defaultOpenBackoff spaces a breaker's consecutive re-openings. It is one
// value shared by every gateway, so that two gateways on one Registry ask
// for the same breaker configuration.
var defaultOpenBackoff = func() backoff.Strategy {
	s, _ := backoff.NewExponential(backoff.ExponentialConfig{Initial: 2 * time.Second, Multiplier: 2, Max: 30 * time.Second})
	return s // a constant, valid configuration: never nil
}()

// breaker returns the named breaker from the registry, built from bc with
// the gateway's defaults.
func (s *settings) breaker(name string, bc breaker.Config) (*breaker.Breaker, error) {
	bc.Name = name
	if bc.Clock == nil {
		bc.Clock = s.policyClock()
	}
	if bc.Classifier == nil {
		bc.Classifier = httpapi.Outcome // a decline is the bank working
	}
	if bc.OpenWait == 0 && bc.OpenBackoff == nil {
		bc.OpenWait, bc.OpenBackoff = 2*time.Second, defaultOpenBackoff
		bc.MaxOpenWait = or(bc.MaxOpenWait, 30*time.Second)
	}
	bc.Listeners = append(append(resilience.Listeners(nil), s.Listeners...), bc.Listeners...)
	return s.Registry.GetOrCreate(name, bc)
}

func or[V comparable](v, def V) V {
	var zero V
	if v == zero {
		return def
	}
	return v
}
