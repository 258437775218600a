package health

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// TargetSnapshot is a target's state at one instant.
type TargetSnapshot struct {
	Name     string    `json:"name"`
	Critical bool      `json:"critical"`
	Status   Status    `json:"status"`
	Since    time.Time `json:"since"` // when Status was entered (zero while Unknown)
	// ConsecutiveFailures and ConsecutiveSuccesses count the current run
	// of results; one of them is always zero.
	ConsecutiveFailures  int       `json:"consecutive_failures"`
	ConsecutiveSuccesses int       `json:"consecutive_successes"`
	Probes               uint64    `json:"probes"`
	Failures             uint64    `json:"failures"`
	LastProbe            time.Time `json:"last_probe"`
	LastError            string    `json:"last_error,omitempty"`
	// NextProbe is when the loop plans to probe next (zero when no loop
	// runs). RetryAfter hints derive from it.
	NextProbe time.Time `json:"next_probe"`
}

type target struct {
	Target
	c            *Checker
	probeTimeout resilience.Policy[struct{}]

	probing sync.Mutex // held while a probe runs: probes never overlap

	mu    sync.Mutex // protects state
	state TargetSnapshot

	// status mirrors state.Status for the lock-free read in Policy, which
	// runs on every guarded call; it is written under mu.
	status atomic.Uint32
}

func (t *target) snapshot() TargetSnapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.state
	s.Name, s.Critical = t.Name, t.Critical
	return s
}

func (t *target) loop(ctx context.Context, done interface{ Done() }) {
	defer done.Done()
	defer t.setNext(time.Time{})
	clk := t.c.cfg.Clock
	wait := t.c.jitter()
	t.setNext(clk.Now().Add(wait))
	for {
		timer := clk.Timer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		// When Stop and the timer are ready together, select may pick the
		// timer: check again so that no probe starts after Stop.
		if ctx.Err() != nil {
			return
		}
		wait = t.probe(ctx, true)
		if ctx.Err() != nil {
			return
		}
	}
}

// nextWait is the wait before the next scheduled probe for a target in
// status st.
func (t *target) nextWait(st Status) time.Duration {
	interval := t.c.cfg.Interval
	if st == Unhealthy && t.c.cfg.UnhealthyInterval > 0 {
		interval = t.c.cfg.UnhealthyInterval
	}
	return interval + t.c.jitter()
}

func (t *target) setNext(at time.Time) {
	t.mu.Lock()
	t.state.NextProbe = at
	t.mu.Unlock()
}

// probe runs the probe under the per-probe timeout and records the result,
// unless the checker was stopped (or the caller gave up) meanwhile: such a
// result says nothing about the dependency. A scheduled probe also plans
// the next one and returns the wait until it.
func (t *target) probe(ctx context.Context, scheduled bool) time.Duration {
	t.probing.Lock()
	defer t.probing.Unlock()
	_, err := t.probeTimeout.Wrap(func(ctx context.Context) (struct{}, error) {
		return struct{}{}, t.Probe(ctx)
	})(ctx)
	if ctx.Err() != nil {
		// Stopped, or the caller gave up: the result says nothing about
		// the dependency. (A probe refused by some policy, on the other
		// hand, could not confirm health: that is a failure.)
		return t.nextWait(t.snapshot().Status)
	}
	return t.record(err, scheduled)
}

// record applies one result to the hysteresis, plans the next probe when
// scheduled, and reports a status change with the plan in its snapshot.
func (t *target) record(err error, scheduled bool) (wait time.Duration) {
	now := t.c.cfg.Clock.Now()
	t.mu.Lock()
	s := &t.state
	s.Probes++
	s.LastProbe = now
	from := s.Status
	if err == nil {
		s.ConsecutiveSuccesses++
		s.ConsecutiveFailures = 0
		s.LastError = ""
		if from == Unknown || (from == Unhealthy && s.ConsecutiveSuccesses >= t.c.cfg.SuccessesToHealthy) {
			s.Status = Healthy
		}
	} else {
		s.Failures++
		s.ConsecutiveFailures++
		s.ConsecutiveSuccesses = 0
		s.LastError = err.Error()
		if from != Unhealthy && s.ConsecutiveFailures >= t.c.cfg.FailuresToUnhealthy {
			s.Status = Unhealthy
		}
	}
	if scheduled {
		wait = t.nextWait(s.Status)
		s.NextProbe = now.Add(wait)
	}
	if s.Status != from {
		t.status.Store(uint32(s.Status))
		s.Since = now
		t.c.events.Enqueue(t.changeEvent(from, now, err))
	}
	t.c.events.Enqueue(t.outcomeEvent(now, err))
	t.mu.Unlock()
	t.c.events.Flush()
	return wait
}

// changeEvent builds the event for a change from `from` to the current
// status; t.mu is held.
func (t *target) changeEvent(from Status, now time.Time, err error) resilience.Event {
	s := t.state
	s.Name, s.Critical = t.Name, t.Critical
	reason := fmt.Sprintf("%d consecutive successes", s.ConsecutiveSuccesses)
	if err != nil {
		reason = fmt.Sprintf("%d consecutive failures", s.ConsecutiveFailures)
	}
	return resilience.Event{Kind: resilience.EventStateChange, Policy: "health", Name: t.Name, Time: now,
		From: from.String(), To: s.Status.String(), Degraded: s.Status == Unhealthy, Reason: reason, Err: err, Detail: s}
}

// outcomeEvent reports one probe's result; t.mu is held.
func (t *target) outcomeEvent(now time.Time, err error) resilience.Event {
	s := t.state
	s.Name, s.Critical = t.Name, t.Critical
	o := resilience.Success
	if err != nil {
		o = resilience.Failure
	}
	return resilience.Event{Kind: resilience.EventOutcome, Policy: "health", Name: t.Name, Time: now,
		Outcome: o, Err: err, Detail: s}
}

func randN(n time.Duration) time.Duration { return time.Duration(rand.Int64N(int64(n))) }
