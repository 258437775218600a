package main

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// callerStats is what one caller goroutine measured.
type callerStats struct {
	calls, successes int
	// outage holds the latency of every call started during the outage.
	outage []time.Duration
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// xs: the smallest value with at least p% of the values at or below it.
// It returns 0 for no values and does not modify xs.
func percentile(xs []time.Duration, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(float64(len(s))*p/100 + 0.999999999)
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// mark is a breaker entering a state, at an offset from the run's start.
type mark struct {
	at    time.Duration
	state string // "closed", "open", "half_open", "forced_open", …
}

// recorder collects a breaker's state changes from its listener. It is
// safe for concurrent use.
type recorder struct {
	t0    time.Time
	mu    sync.Mutex // protects marks
	marks []mark
}

func (r *recorder) mark(state string) {
	at := time.Since(r.t0)
	state = strings.ReplaceAll(state, "-", "_") // "half-open" and "half_open" alike
	r.mu.Lock()
	r.marks = append(r.marks, mark{at: at, state: state})
	r.mu.Unlock()
}

// snapshot returns the marks in time order. A mark's time is read before
// the lock is taken, so two listeners racing could append out of order.
func (r *recorder) snapshot() []mark {
	r.mu.Lock()
	ms := slices.Clone(r.marks)
	r.mu.Unlock()
	slices.SortStableFunc(ms, func(a, b mark) int { return int(a.at - b.at) })
	return ms
}

// recovery says how a breaker came back after the outage.
type recovery struct {
	opened bool          // it left the closed state during the outage
	closed bool          // it was closed again by the end of the run
	delay  time.Duration // from the dependency's recovery to closing
}

// recoveryFrom reads marks (in time order; a breaker starts closed): the
// breaker's delay is from sched.end to its first closing at or after it,
// or zero when it was closed at sched.end already.
func recoveryFrom(marks []mark, sched schedule) recovery {
	var r recovery
	state := "closed"
	for _, m := range marks {
		if m.at >= sched.start && m.at < sched.end && m.state != "closed" {
			r.opened = true
		}
		if m.at < sched.end {
			state = m.state
			continue
		}
		if state == "closed" {
			break
		}
		if m.state == "closed" {
			r.closed, r.delay = true, m.at-sched.end
			return r
		}
		state = m.state
	}
	if state == "closed" {
		r.closed = true
	}
	return r
}

// result is one contender's figures for one phase.
type result struct {
	contender   string
	breaker     bool  // it has a breaker, so recovery means something
	health      bool  // it has health probes
	reached     int64 // callers' calls that reached the dependency in the outage
	probes      int64 // health probes that reached it in the outage
	p99         time.Duration
	outageCalls int // calls started during the outage
	calls       int
	successes   int
	recovery    recovery
}

// aggregate merges the callers' figures with the dependency's counts and
// the breaker's state changes.
func aggregate(c contender, stats []callerStats, dep *dependency, marks []mark) result {
	r := result{contender: c.name, breaker: c.breaker, health: c.health}
	var lat []time.Duration
	for _, s := range stats {
		r.calls += s.calls
		r.successes += s.successes
		lat = append(lat, s.outage...)
	}
	r.outageCalls = len(lat)
	r.p99 = percentile(lat, 99)
	r.reached = dep.calls[during].Load()
	r.probes = dep.probes[during].Load()
	if c.breaker {
		r.recovery = recoveryFrom(marks, dep.sched)
	}
	return r
}

// goal is issue 9's target for riprap with health checks bound.
type goal struct {
	maxReached  int64
	maxRecovery time.Duration
	maxLoss     float64 // successes may fall short of the unprotected run's by this fraction
}

var issueGoal = goal{maxReached: 70, maxRecovery: 100 * time.Millisecond, maxLoss: 0.02}

// misses lists how r falls short of g, next to the unprotected run none;
// it is empty when every part of the goal is met.
func (g goal) misses(r, none result) []string {
	var out []string
	if r.reached > g.maxReached {
		out = append(out, "too many calls reached the dead dependency")
	}
	switch {
	case !r.recovery.closed:
		out = append(out, "the breaker did not close before the end of the run")
	case r.recovery.delay > g.maxRecovery:
		out = append(out, "closing took longer than "+g.maxRecovery.String())
	}
	if float64(r.successes) < float64(none.successes)*(1-g.maxLoss) {
		out = append(out, "fewer successful calls than the unprotected run allows")
	}
	return out
}
