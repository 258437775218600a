package main

import (
	"testing"
	"time"
)

func defaultConfig() config {
	return config{outage: 5 * time.Second, warmup: 2 * time.Second, tail: 3 * time.Second, callers: 64,
		timeout: ms(50), service: ms(1), think: ms(2), openWait: ms(500), phases: 5, seed: 1,
		probeEvery: ms(100), probeEveryUnhealthy: ms(50), probeTimeout: ms(25)}
}

func TestScheduleForShiftsStartAndEnd(t *testing.T) {
	cfg := defaultConfig() // cycle 550ms, step 110ms
	tests := []struct {
		k                int
		start, end, stop time.Duration
	}{
		{0, ms(2000), ms(7000), ms(10000)},
		{1, ms(2110), ms(7220), ms(10220)},
		{4, ms(2440), ms(7880), ms(10880)},
	}
	for _, tt := range tests {
		got := scheduleFor(cfg, tt.k)
		want := schedule{phase: tt.k, start: tt.start, end: tt.end, stop: tt.stop}
		if got != want {
			t.Errorf("phase %d: got %+v, want %+v", tt.k, got, want)
		}
	}
}

func TestScheduleFoldsEveryPhaseIntoOneCycle(t *testing.T) {
	// Relative to a peer breaker's rhythm, anchored at the outage start,
	// the recoveries of the phases fall at distinct points of one cycle.
	cfg := defaultConfig()
	seen := map[time.Duration]bool{}
	for k := range cfg.phases {
		s := scheduleFor(cfg, k)
		seen[(s.end-s.start)%cfg.cycle()] = true
	}
	if len(seen) != cfg.phases {
		t.Errorf("got %d distinct recovery points in the cycle, want %d", len(seen), cfg.phases)
	}
}

func TestScheduleAt(t *testing.T) {
	s := schedule{start: ms(10), end: ms(20), stop: ms(30)}
	for at, want := range map[time.Duration]window{
		0: before, ms(10) - 1: before, ms(10): during, ms(20) - 1: during, ms(20): after, ms(40): after,
	} {
		if got := s.at(at); got != want {
			t.Errorf("at(%v): got %d, want %d", at, got, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := defaultConfig().validate(); err != nil {
		t.Fatalf("default: %v", err)
	}
	for name, edit := range map[string]func(*config){
		"outage":          func(c *config) { c.outage = 0 },
		"callers":         func(c *config) { c.callers = 0 },
		"timeout":         func(c *config) { c.timeout = -1 },
		"phases":          func(c *config) { c.phases = 0 },
		"think":           func(c *config) { c.think = -1 },
		"openWait":        func(c *config) { c.openWait = 0 },
		"probe intervals": func(c *config) { c.probeEveryUnhealthy = ms(200) },
		"probe timeout":   func(c *config) { c.probeTimeout = ms(50) },
	} {
		c := defaultConfig()
		edit(&c)
		if err := c.validate(); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
}
