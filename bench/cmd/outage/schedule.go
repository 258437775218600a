package main

import (
	"fmt"
	"time"
)

// config is one comparison: the flags, with defaults applied.
type config struct {
	outage   time.Duration // length of the outage in phase 0
	warmup   time.Duration // healthy time before the outage in phase 0
	tail     time.Duration // healthy time after the outage
	callers  int
	timeout  time.Duration // each call's deadline
	service  time.Duration // a healthy call's duration
	think    time.Duration // mean pause between a caller's calls
	openWait time.Duration // every breaker's open wait

	// The health checker of riprap+health.
	probeEvery, probeEveryUnhealthy, probeTimeout time.Duration
	phases                                        int
	seed                                          uint64
}

// cycle is how long a tripped peer breaker takes to try again and learn
// that the dependency is still dead: its open wait, then a probe that
// hangs until the call timeout.
func (c config) cycle() time.Duration { return c.openWait + c.timeout }

func (c config) validate() error {
	switch {
	case c.outage <= 0:
		return fmt.Errorf("-outage must be positive, got %v", c.outage)
	case c.callers <= 0:
		return fmt.Errorf("-callers must be positive, got %d", c.callers)
	case c.timeout <= 0:
		return fmt.Errorf("-timeout must be positive, got %v", c.timeout)
	case c.phases <= 0:
		return fmt.Errorf("-phases must be positive, got %d", c.phases)
	case c.warmup < 0 || c.tail < 0 || c.service < 0 || c.think < 0:
		return fmt.Errorf("durations must not be negative")
	case c.openWait <= 0:
		return fmt.Errorf("-openwait must be positive, got %v", c.openWait)
	case c.probeEvery <= 0 || c.probeEveryUnhealthy <= 0 || c.probeEveryUnhealthy > c.probeEvery:
		return fmt.Errorf("-probe-every-unhealthy must be in (0, -probe-every]")
	case c.probeTimeout <= 0 || c.probeTimeout >= c.probeEveryUnhealthy:
		return fmt.Errorf("-probe-timeout must be in (0, -probe-every-unhealthy)")
	}
	return nil
}

// schedule is one phase's timeline, as offsets from the start of the run:
// healthy until start, hanging in [start, end), healthy until stop.
type schedule struct {
	phase      int
	start, end time.Duration
	stop       time.Duration
}

// scheduleFor returns phase k of cfg.phases. Phase k moves the outage's
// start and its end by k/phases of a peer breaker's cycle each, so the
// recovery falls at a different point of every breaker's open/half-open
// rhythm and of the health checker's probe rhythm. Every contender of a
// phase runs on the same schedule.
func scheduleFor(cfg config, k int) schedule {
	step := cfg.cycle() / time.Duration(cfg.phases)
	shift := time.Duration(k) * step
	start := cfg.warmup + shift
	end := start + cfg.outage + shift
	return schedule{phase: k, start: start, end: end, stop: end + cfg.tail}
}

// window says where an instant falls in a schedule.
type window uint8

const (
	before window = iota
	during
	after
)

func (s schedule) at(t time.Duration) window {
	switch {
	case t < s.start:
		return before
	case t < s.end:
		return during
	}
	return after
}
