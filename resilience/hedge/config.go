package hedge

import (
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
)

// policyName is the Policy field of this package's events and the
// Component of its configuration errors.
const policyName = "hedge"

// Defaults and bounds of [Config].
const (
	// DefaultWindow is how many recent calls a quantile delay reflects.
	DefaultWindow = 1000
	// MaxHedges bounds Config.MaxHedges: every hedge adds load, and more
	// than a few never shortens a tail further.
	MaxHedges = 16
)

// Budget caps hedges across calls, so that in an outage, when every call
// is slow, hedging cannot multiply the load on the dependency. A hedger
// counts each call it sees with Request and asks AllowRetry before each
// hedge; a refused hedge is not made, nor any later one of the same call,
// which waits for the attempts already running.
//
// The retry budget of package backoff (*backoff.Budget) satisfies it, so
// one budget can bound a dependency's retries and hedges together. When a
// retry outside the hedger counts the calls to that budget, give the
// hedger budget.Spender() instead, which spends without counting, so
// that each call is counted once. Its methods must be safe for concurrent
// use.
type Budget interface {
	Request()
	AllowRetry() bool
}

// Config configures [New]. Delay is required; every other zero value means
// a documented default.
type Config struct {
	// Name identifies the hedger in events and snapshots.
	Name string
	// Delay is how long an attempt may run before the next one starts. It
	// must be positive. With a Quantile, it is the delay used until the
	// estimate has enough samples (32).
	Delay time.Duration
	// Quantile, when set, derives the delay from recent latencies: the
	// given quantile of the first attempts of recent calls (0.95 hedges
	// about the slowest 5%). It must be in (0, 1); zero means the fixed
	// Delay. See [Hedger] for what is measured.
	Quantile float64
	// Window is about how many recent calls the quantile reflects: every
	// Window calls, older ones weigh half as much. Zero means
	// DefaultWindow; otherwise it must be at least 32.
	Window int
	// MaxHedges is how many extra attempts a call may start, one every
	// delay. Zero means 1; at most [MaxHedges].
	MaxHedges int
	// Budget, when set, must allow each hedge (see [Budget]). Nil means
	// no limit beyond MaxHedges.
	Budget Budget
	// Classifier decides which answers are good: an attempt judged
	// [resilience.Success] ends the call; any other outcome lets the
	// attempts still running go on. Nil means [resilience.DefaultOutcome],
	// which honours a pipeline classifier's verdict ([resilience.Judged]).
	Classifier resilience.ErrorClassifier
	// Clock times the delays and latencies. Nil means the real clock,
	// whose timers the hedger reuses from call to call.
	Clock clock.Clock
	// Listeners receive an [resilience.EventRetry] (Policy "hedge",
	// Reason "hedge") as each hedge starts, on its goroutine, and an
	// [resilience.EventPanic] for a panic in an attempt that lost.
	Listeners resilience.Listeners
}

func (c *Config) validate() error {
	switch {
	case c.Delay <= 0:
		return c.fieldError("Delay", "must be positive", c.Delay)
	case c.Quantile != 0 && !(c.Quantile > 0 && c.Quantile < 1):
		return c.fieldError("Quantile", "must be in (0, 1)", c.Quantile)
	case c.Window < 0:
		return c.fieldError("Window", "must not be negative", c.Window)
	case c.Window != 0 && c.Window < minSamples:
		return c.fieldError("Window", "must be at least 32", c.Window)
	case c.MaxHedges < 0:
		return c.fieldError("MaxHedges", "must not be negative", c.MaxHedges)
	case c.MaxHedges > MaxHedges:
		return c.fieldError("MaxHedges", "must be at most 16", c.MaxHedges)
	}
	return nil
}

func (c *Config) fieldError(field, rule string, value any) error {
	return &resilience.ConfigError{Component: policyName, Name: c.Name, Field: field, Rule: rule, Value: value}
}
