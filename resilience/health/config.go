package health

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience"
)

// Status is a target's health.
type Status uint8

// The statuses. A target starts Unknown; one success makes it Healthy, and
// FailuresToUnhealthy consecutive failures make it Unhealthy.
const (
	Unknown Status = iota
	Healthy
	Unhealthy
)

// String returns "unknown", "healthy" or "unhealthy".
func (s Status) String() string {
	switch s {
	case Healthy:
		return "healthy"
	case Unhealthy:
		return "unhealthy"
	}
	return "unknown"
}

// MarshalText encodes the status as its String form (for JSON).
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a status from its String form.
func (s *Status) UnmarshalText(b []byte) error {
	for _, st := range []Status{Unknown, Healthy, Unhealthy} {
		if st.String() == string(b) {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("health: unknown status %q", b)
}

// Target is one dependency to probe.
type Target struct {
	// Name identifies the target; names are unique within a Checker.
	Name string
	// Probe checks the dependency once. It must honour ctx: the checker
	// waits for it to return, and ends ctx at the probe timeout (with
	// context.DeadlineExceeded, also in contexts the probe derives from it)
	// and at Stop. A nil error means healthy; any error, a rejection by a
	// policy the probe goes through included, counts as a failure. A probe
	// cut short by Stop (or by the caller of [Checker.Probe]) is not
	// counted.
	Probe func(ctx context.Context) error
	// Critical targets decide readiness: [Checker.Ready] is false unless
	// every critical target is Healthy.
	Critical bool
	// CallTimeout is the timeout of the calls this target's health
	// protects (the breaker bound to it, the calls behind its gate), zero
	// when unknown. A probe must not judge the dependency by a stricter
	// bar than those calls: a bank that answers every payment in 150 ms
	// within a 2 s call timeout is working, and a 125 ms probe timeout
	// would hold its breaker open for good. So the probe timeout defaults
	// to at least CallTimeout, and [New] refuses a [Config.Timeout]
	// shorter than it.
	CallTimeout time.Duration
}

// Config configures a [Checker]. Interval is required; zero values of the
// other fields mean the documented defaults.
type Config struct {
	// Interval is the time between the end of one probe and the start of
	// the next.
	Interval time.Duration
	// UnhealthyInterval, when set, replaces Interval while a target is
	// Unhealthy, so a recovery is noticed sooner. It must not exceed
	// Interval.
	UnhealthyInterval time.Duration
	// Jitter adds a uniformly random delay in [0, Jitter] to every wait,
	// including the first one, so that many checkers do not probe in step.
	// It must be smaller than Interval. Default 0.
	Jitter time.Duration
	// Timeout bounds one probe; a probe that times out is a failure. It
	// must not be shorter than any target's [Target.CallTimeout]. Default,
	// for each target: half the shortest interval, or the target's
	// CallTimeout when that is longer. Probes never overlap (an interval
	// starts when a probe ends), so a timeout longer than an interval only
	// stretches the schedule while a dependency is slow.
	Timeout time.Duration
	// FailuresToUnhealthy consecutive failures make a target Unhealthy
	// (default 3); SuccessesToHealthy consecutive successes make an
	// Unhealthy target Healthy again (default 2).
	FailuresToUnhealthy int
	SuccessesToHealthy  int
	// Clock supplies time; nil means the real clock, on which probe
	// deadlines are the runtime's own.
	Clock clock.Clock
	// Rand draws the jitter; nil means math/rand/v2's global source. A
	// given *rand.Rand is used under a lock.
	Rand *rand.Rand
	// Listeners receive an [resilience.EventStateChange] for every status
	// change, and (when subscribed to them) an [resilience.EventOutcome]
	// for every probe and an [resilience.EventRejection] for every call a
	// gate refuses. Policy is "health", Name the target; state changes
	// and outcomes carry the target's [TargetSnapshot] as Detail.
	// Listeners run on the probing goroutine after the probe's locks are
	// released, so they may probe again, but must not call Stop.
	Listeners resilience.Listeners
}

func configError(name, field, rule string, value any) error {
	return &resilience.ConfigError{Component: "health", Name: name, Field: field, Rule: rule, Value: value}
}

// validate returns every rule cfg and targets break, joined.
func (c *Config) validate(targets []Target) error {
	var errs []error
	bad := func(field, rule string, value any) { errs = append(errs, configError("", field, rule, value)) }
	if c.Interval <= 0 {
		bad("Interval", "must be positive", c.Interval)
	}
	if c.UnhealthyInterval < 0 {
		bad("UnhealthyInterval", "must not be negative", c.UnhealthyInterval)
	} else if c.UnhealthyInterval > c.Interval && c.Interval > 0 {
		bad("UnhealthyInterval", fmt.Sprintf("must be at most Interval (%s)", c.Interval), c.UnhealthyInterval)
	}
	if c.Jitter < 0 {
		bad("Jitter", "must not be negative", c.Jitter)
	} else if c.Interval > 0 && c.Jitter >= c.Interval {
		bad("Jitter", fmt.Sprintf("must be less than Interval (%s)", c.Interval), c.Jitter)
	}
	if c.Timeout < 0 {
		bad("Timeout", "must not be negative", c.Timeout)
	}
	if c.FailuresToUnhealthy < 0 {
		bad("FailuresToUnhealthy", "must not be negative", c.FailuresToUnhealthy)
	}
	if c.SuccessesToHealthy < 0 {
		bad("SuccessesToHealthy", "must not be negative", c.SuccessesToHealthy)
	}
	return errors.Join(append(errs, c.validateTargets(targets)...)...)
}

func (c *Config) validateTargets(targets []Target) []error {
	if len(targets) == 0 {
		return []error{configError("", "targets", "must not be empty", 0)}
	}
	var errs []error
	seen := make(map[string]bool, len(targets))
	for i, t := range targets {
		field := func(f string) string { return fmt.Sprintf("targets[%d].%s", i, f) }
		switch {
		case t.Name == "":
			errs = append(errs, configError("", field("Name"), "must not be empty", t.Name))
		case seen[t.Name]:
			errs = append(errs, configError(t.Name, field("Name"), "must be unique", t.Name))
		}
		seen[t.Name] = true
		if t.Probe == nil {
			errs = append(errs, configError(t.Name, field("Probe"), "must not be nil", nil))
		}
		switch {
		case t.CallTimeout < 0:
			errs = append(errs, configError(t.Name, field("CallTimeout"), "must not be negative", t.CallTimeout))
		case c.Timeout > 0 && c.Timeout < t.CallTimeout:
			errs = append(errs, configError(t.Name, "Timeout",
				fmt.Sprintf("must be at least %s (%s), the timeout of the calls it protects", field("CallTimeout"), t.CallTimeout),
				c.Timeout))
		}
	}
	return errs
}

func (c *Config) setDefaults() {
	if c.FailuresToUnhealthy == 0 {
		c.FailuresToUnhealthy = 3
	}
	if c.SuccessesToHealthy == 0 {
		c.SuccessesToHealthy = 2
	}
}

// probeTimeout is the timeout of t's probes.
func (c *Config) probeTimeout(t Target) time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	shortest := c.Interval
	if c.UnhealthyInterval > 0 {
		shortest = c.UnhealthyInterval
	}
	return max(shortest/2, t.CallTimeout, 1)
}
