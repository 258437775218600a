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
	// waits for it to return, and cancels ctx at the probe timeout and at
	// Stop. A nil error means healthy; any error, a rejection by a policy
	// the probe goes through included, counts as a failure. A probe cut
	// short by Stop (or by the caller of [Checker.Probe]) is not counted.
	Probe func(ctx context.Context) error
	// Critical targets decide readiness: the [Handler] answers 503 unless
	// every critical target is Healthy.
	Critical bool
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
	// must be smaller than the shortest interval. Default: half of it.
	Timeout time.Duration
	// FailuresToUnhealthy consecutive failures make a target Unhealthy
	// (default 3); SuccessesToHealthy consecutive successes make an
	// Unhealthy target Healthy again (default 2).
	FailuresToUnhealthy int
	SuccessesToHealthy  int
	// Clock supplies time; nil means the real clock.
	Clock clock.Clock
	// Rand draws the jitter; nil means math/rand/v2's global source. A
	// given *rand.Rand is used under a lock.
	Rand *rand.Rand
	// Listeners receive an [resilience.EventStateChange] for every status
	// change and an [resilience.EventOutcome] for every probe (Policy
	// "health", Name the target, Detail its [TargetSnapshot]).
	Listeners resilience.Listeners
}

func (c *Config) validate(targets []Target) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("health: "+format, args...)) }
	if c.Interval <= 0 {
		bad("Interval must be positive, got %s", c.Interval)
	}
	if c.UnhealthyInterval < 0 || c.UnhealthyInterval > c.Interval {
		bad("UnhealthyInterval must be in [0, Interval=%s], got %s", c.Interval, c.UnhealthyInterval)
	}
	shortest := c.Interval
	if c.UnhealthyInterval > 0 {
		shortest = c.UnhealthyInterval
	}
	if c.Jitter < 0 || (c.Interval > 0 && c.Jitter >= c.Interval) {
		bad("Jitter must be in [0, Interval=%s), got %s", c.Interval, c.Jitter)
	}
	if c.Timeout < 0 || (shortest > 0 && c.Timeout >= shortest) {
		bad("Timeout must be in [0, %s) (below the shortest interval), got %s", shortest, c.Timeout)
	}
	if c.FailuresToUnhealthy < 0 {
		bad("FailuresToUnhealthy must be at least 1, got %d", c.FailuresToUnhealthy)
	}
	if c.SuccessesToHealthy < 0 {
		bad("SuccessesToHealthy must be at least 1, got %d", c.SuccessesToHealthy)
	}
	errs = append(errs, validateTargets(targets)...)
	return errors.Join(errs...)
}

func validateTargets(targets []Target) []error {
	var errs []error
	if len(targets) == 0 {
		errs = append(errs, errors.New("health: at least one Target is required"))
	}
	seen := make(map[string]bool, len(targets))
	for i, t := range targets {
		switch {
		case t.Name == "":
			errs = append(errs, fmt.Errorf("health: Target %d has no Name", i+1))
		case seen[t.Name]:
			errs = append(errs, fmt.Errorf("health: duplicate Target name %q", t.Name))
		}
		seen[t.Name] = true
		if t.Probe == nil {
			errs = append(errs, fmt.Errorf("health: Target %q has no Probe", t.Name))
		}
	}
	return errs
}

func (c *Config) setDefaults() {
	if c.Clock == nil {
		c.Clock = clock.New()
	}
	if c.FailuresToUnhealthy == 0 {
		c.FailuresToUnhealthy = 3
	}
	if c.SuccessesToHealthy == 0 {
		c.SuccessesToHealthy = 2
	}
	if c.Timeout == 0 {
		shortest := c.Interval
		if c.UnhealthyInterval > 0 {
			shortest = c.UnhealthyInterval
		}
		c.Timeout = shortest / 2
	}
}
