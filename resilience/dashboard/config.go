package dashboard

import (
	"maps"
	"slices"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/throttle"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// Defaults applied by [New] to zero fields of a [Config].
const (
	DefaultInterval   = time.Second
	DefaultHistory    = 5 * time.Minute
	DefaultMaxClients = 64
	DefaultTitle      = "riprap dashboard"
)

// Limits of a [Config] and of a stream.
const (
	// MinInterval keeps a misconfigured sampler from spinning.
	MinInterval = 10 * time.Millisecond
	// MaxHistory bounds the window a page shows; older transitions go.
	MaxHistory = 24 * time.Hour
	// MaxStreamLifetime caps what a client may ask for with
	// /events?max=…; longer requests are served for this long.
	MaxStreamLifetime = time.Hour
	// ClientBuffer is how many messages wait for one stream client. A
	// client that falls this far behind is dropped and its connection
	// closed; its browser reconnects and starts afresh from a snapshot.
	ClientBuffer = 32
)

// Config lists what a [Dashboard] shows and how. Its zero value is valid:
// an empty page sampled every second with five minutes of history. Every
// list may hold nil entries, which are skipped; names should be unique
// within a kind, since timelines are kept by name. [New] copies the lists;
// components built later are shown with [Dashboard.Add].
type Config struct {
	// Title heads the page; empty means DefaultTitle.
	Title string

	// Registry's breakers are listed afresh at every sample, so breakers
	// created later appear and removed ones go.
	Registry *breaker.Registry
	// Breakers are shown too, for breakers that are not in Registry. A
	// breaker of a name already in Registry is left out.
	Breakers []*breaker.Breaker

	Limiters  []*ratelimit.Limiter
	Keyed     []*ratelimit.Keyed
	Bulkheads []*bulkhead.Bulkhead
	Adaptive  []*bulkhead.Adaptive
	// Health's targets are shown with a timeline of their status, like
	// breakers.
	Health *health.Checker
	// Budgets are shown by the names given here: a retry budget has none
	// of its own.
	Budgets   map[string]*backoff.Budget
	Retries   []*backoff.Retry
	Timeouts  []*timeout.Timeout
	Throttles []*throttle.Throttle
	// Parts, when set, is called at each sample (and for each /snapshot)
	// for snapshots of components the dashboard cannot hold, built where
	// only their snapshots are exposed; see [Parts]. It must be safe for
	// concurrent use and should return quickly: it runs on the sampler's
	// goroutine and on the requests for /snapshot.
	Parts func() Parts

	// Interval is how often the sampler reads every snapshot and sends it
	// to the page; zero means DefaultInterval, at least MinInterval.
	Interval time.Duration
	// History is how far back timelines reach; zero means DefaultHistory,
	// at most MaxHistory.
	History time.Duration
	// MaxClients bounds the event streams served at once; a client past
	// it gets 503. Zero means DefaultMaxClients.
	MaxClients int
	// Clock places samples in time and bounds stream lifetimes. Nil means
	// the real clock. Give it the clock of the components shown, since
	// their transitions carry times of their own clock.
	Clock clock.Clock
}

// check applies the defaults and refuses what cannot work.
func (c *Config) check() error {
	refuse := func(field, rule string, v any) error {
		return &resilience.ConfigError{Component: "dashboard", Name: c.Title, Field: field, Rule: rule, Value: v}
	}
	switch {
	case c.Interval < 0:
		return refuse("Interval", "must not be negative", c.Interval)
	case c.Interval > 0 && c.Interval < MinInterval:
		return refuse("Interval", "must be at least "+MinInterval.String(), c.Interval)
	case c.History < 0:
		return refuse("History", "must not be negative", c.History)
	case c.History > MaxHistory:
		return refuse("History", "must be at most "+MaxHistory.String(), c.History)
	case c.MaxClients < 0:
		return refuse("MaxClients", "must not be negative", c.MaxClients)
	}
	c.Interval = or(c.Interval, DefaultInterval)
	c.History = or(c.History, DefaultHistory)
	if c.History < c.Interval {
		return refuse("History", "must be at least Interval ("+c.Interval.String()+")", c.History)
	}
	c.MaxClients = or(c.MaxClients, DefaultMaxClients)
	if c.Title == "" {
		c.Title = DefaultTitle
	}
	if c.Clock == nil {
		c.Clock = clock.New()
	}
	return nil
}

// components copies the component fields of c, lists cloned so that the
// caller's later changes do not reach the dashboard.
func components(c Config) Config {
	return Config{
		Registry: c.Registry, Breakers: slices.Clone(c.Breakers),
		Limiters: slices.Clone(c.Limiters), Keyed: slices.Clone(c.Keyed),
		Bulkheads: slices.Clone(c.Bulkheads), Adaptive: slices.Clone(c.Adaptive),
		Health: c.Health, Budgets: maps.Clone(c.Budgets), Retries: slices.Clone(c.Retries),
		Timeouts: slices.Clone(c.Timeouts), Throttles: slices.Clone(c.Throttles), Parts: c.Parts,
	}
}

func or[N int | time.Duration](v, def N) N {
	if v == 0 {
		return def
	}
	return v
}
