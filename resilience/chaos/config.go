package chaos

import (
	"context"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
)

// policyName is the Component of this package's configuration errors.
const policyName = "chaos"

// Config configures an [Injector]. Its zero value means: every call, off
// until [Injector.Enable], a random seed and the real clock.
type Config struct {
	// Name identifies the injector in its errors and snapshots
	// ("bank outage").
	Name string
	// Rate is the share of calls that get the injection, in [0, 1]. Zero
	// means 1: every call, as in an outage.
	Rate float64
	// On starts the injector switched on. Off, it injects nothing until
	// [Injector.Enable] is called.
	On bool
	// Enabled, when set, is asked on each call while the injector is on;
	// a call for which it returns false passes untouched and is not
	// counted. It must be safe for concurrent use and fast.
	Enabled func(ctx context.Context) bool
	// Seed makes the decisions reproducible: two injectors with the same
	// non-zero Seed and Rate pick the same calls of a sequence. Zero means
	// a random seed.
	Seed uint64
	// Clock times injected latencies. Nil means the real clock.
	Clock clock.Clock
}

func (c *Config) validate() error {
	if !(c.Rate >= 0 && c.Rate <= 1) { // NaN fails both comparisons
		return c.fieldError("Rate", "must be in [0, 1]", c.Rate)
	}
	return nil
}

func (c *Config) fieldError(field, rule string, value any) error {
	return &resilience.ConfigError{Component: policyName, Name: c.Name, Field: field, Rule: rule, Value: value}
}

// rate returns the rate in force.
func (c *Config) rate() float64 {
	if c.Rate == 0 {
		return 1
	}
	return c.Rate
}
