package throttle

import (
	"math"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
)

// policyName is the Policy field of this package's rejections, events and
// configuration errors.
const policyName = "throttle"

// Defaults of [Config].
const (
	// DefaultK is the SRE book's multiplier: the client sends up to twice
	// what the dependency accepts.
	DefaultK = 2.0
	// DefaultWindow is how far back requests and accepts are counted.
	DefaultWindow = 10 * time.Second
	// DefaultBuckets is how many slices the window moves by.
	DefaultBuckets = 10
)

// maxBuckets bounds a window's buckets, which are allocated up front.
const maxBuckets = 1 << 16

// Config configures [New]. Its zero value means the defaults: K 2, a 10s
// window in 10 buckets, no minimum, the default classifier, the real clock
// and a random seed.
type Config struct {
	// Name identifies the throttle in rejections, events and snapshots.
	Name string
	// K is how many times the accepted calls the client may send before it
	// starts refusing. Zero means DefaultK; otherwise it must be at least 1
	// (below 1 the throttle would refuse calls while every one succeeds).
	// Lower is more aggressive.
	K float64
	// Window is how far back requests and accepts are counted. Zero means
	// DefaultWindow.
	Window time.Duration
	// Buckets is how many slices the window moves by. Zero means
	// DefaultBuckets; Window/Buckets must be at least 1ms.
	Buckets int
	// MinRequests is how many requests the window must hold before the
	// throttle refuses anything, so that one failure in a quiet window does
	// not refuse half the next calls. Zero means no minimum: the formula
	// alone decides.
	MinRequests int
	// Classifier judges each call from its error. Nil means
	// [resilience.DefaultOutcome].
	Classifier resilience.ErrorClassifier
	// Seed makes the throttle's random decisions reproducible: two
	// throttles with the same non-zero Seed, fed the same calls at the same
	// times, refuse the same ones. Zero means a random seed.
	Seed uint64
	// Clock places calls in the window. Nil means the real clock.
	Clock clock.Clock
	// Listeners receive an [resilience.EventRejection] for each refused
	// call and an [resilience.EventOutcome] for each judged one, on the
	// caller's goroutine; a listener that subscribes to neither costs a
	// call nothing.
	Listeners resilience.Listeners
}

// validate refuses a bad configuration with a *resilience.ConfigError.
func (c *Config) validate() error {
	switch {
	case c.K != 0 && (!(c.K >= 1) || math.IsInf(c.K, 1)):
		return c.fieldError("K", "must be at least 1 and finite", c.K)
	case c.Window < 0:
		return c.fieldError("Window", "must not be negative", c.Window)
	case c.Buckets < 0:
		return c.fieldError("Buckets", "must not be negative", c.Buckets)
	case c.Buckets > maxBuckets:
		return c.fieldError("Buckets", "must be at most 65536", c.Buckets)
	case c.MinRequests < 0:
		return c.fieldError("MinRequests", "must not be negative", c.MinRequests)
	}
	window, buckets := c.withDefaults()
	if window/time.Duration(buckets) < time.Millisecond {
		return c.fieldError("Window", "must be at least 1ms per bucket", window)
	}
	return nil
}

// withDefaults returns the window and bucket count in force.
func (c *Config) withDefaults() (time.Duration, int) {
	window, buckets := c.Window, c.Buckets
	if window == 0 {
		window = DefaultWindow
	}
	if buckets == 0 {
		buckets = DefaultBuckets
	}
	return window, buckets
}

func (c *Config) fieldError(field, rule string, value any) error {
	return &resilience.ConfigError{Component: policyName, Name: c.Name, Field: field, Rule: rule, Value: value}
}
