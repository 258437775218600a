package health

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// target is one Target with its state and schedule.
type target struct {
	Target
	c          *Checker
	timeout    time.Duration // of one probe
	timeoutErr *timeoutError // the probe context's cause at the timeout; immutable, shared by all probes

	// probing is held while a probe runs and is recorded, so probes never
	// overlap and their state changes are queued in the order they happen.
	probing sync.Mutex

	mu    sync.Mutex // protects state
	state TargetSnapshot

	// status mirrors state.Status for the lock-free read in a gate, which
	// runs on every guarded call; it is written under mu.
	status atomic.Uint32

	bindMu sync.Mutex // protects binds
	binds  []*binding
}

func (t *target) snapshot() TargetSnapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.snapshotLocked()
}

// snapshotLocked copies the state; t.mu is held.
func (t *target) snapshotLocked() TargetSnapshot {
	s := t.state
	s.Name, s.Critical, s.ProbeTimeout = t.Name, t.Critical, t.timeout
	return s
}

func (t *target) loop(ctx context.Context, done interface{ Done() }) {
	defer done.Done()
	defer t.setNext(time.Time{})
	clk := t.c.clk
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

// probe runs one probe and records it. A scheduled probe also plans the
// next one and returns the wait until it. Listeners run after the probe
// lock is released, so a listener may probe again.
func (t *target) probe(ctx context.Context, scheduled bool) time.Duration {
	wait, outcome := t.probeLocked(ctx, scheduled)
	t.c.events.Flush()
	if outcome != nil {
		t.c.events.Emit(*outcome)
	}
	return wait
}

// probeLocked runs the probe under the probe timeout and records its
// result, unless the checker was stopped (or the caller gave up)
// meanwhile: such a result says nothing about the dependency. (A probe
// refused by some policy, on the other hand, could not confirm health:
// that is a failure.) It returns the outcome event to emit, if anybody
// wants it.
func (t *target) probeLocked(ctx context.Context, scheduled bool) (time.Duration, *resilience.Event) {
	t.probing.Lock()
	defer t.probing.Unlock()
	start := t.c.clk.Now()
	err := t.run(ctx)
	if ctx.Err() != nil {
		return t.nextWait(t.snapshot().Status), nil
	}
	return t.record(err, t.c.clk.Since(start), scheduled)
}

// run calls the probe with its deadline. A probe that fails once the
// deadline fired failed because of it, whatever error it returns.
func (t *target) run(ctx context.Context) error {
	pctx, cancel := t.c.probeContext(ctx, t.timeout, t.timeoutErr)
	defer cancel()
	err := t.Probe(pctx)
	if err != nil && context.Cause(pctx) == error(t.timeoutErr) {
		return t.timeoutErr
	}
	return err
}

// record applies one result to the hysteresis, plans the next probe when
// scheduled, makes bound breakers follow, and queues a status change with
// the plan in its snapshot. t.probing is held.
func (t *target) record(err error, took time.Duration, scheduled bool) (wait time.Duration, outcome *resilience.Event) {
	now := t.c.clk.Now()
	t.mu.Lock()
	from := t.apply(err, now, took)
	s := &t.state
	if scheduled {
		wait = t.nextWait(s.Status)
		s.NextProbe = now.Add(wait)
	}
	to, reason := s.Status, ""
	var change resilience.Event
	if to != from {
		t.status.Store(uint32(to))
		s.Since = now
		reason = t.reason(err)
		change = t.event(resilience.EventStateChange, now, err)
		change.From, change.To, change.Degraded, change.Reason = from.String(), to.String(), to == Unhealthy, reason
	}
	if t.c.events.Wants(resilience.EventOutcome) {
		e := t.event(resilience.EventOutcome, now, err)
		e.Outcome, e.Duration = resilience.Success, took
		if err != nil {
			e.Outcome = resilience.Failure
		}
		outcome = &e
	}
	t.mu.Unlock()
	// Bound breakers follow before any listener hears of the change, so a
	// listener that reads a breaker sees it follow the target already.
	t.syncBindings(to == Healthy && from != Healthy, reason)
	if to != from {
		t.c.events.Enqueue(change)
	}
	return wait, outcome
}

// apply counts one result and moves the status; t.mu is held. It returns
// the status before.
func (t *target) apply(err error, now time.Time, took time.Duration) (from Status) {
	s := &t.state
	from = s.Status
	s.Probes++
	s.LastProbe, s.LastProbeDuration = now, took
	if err == nil {
		s.ConsecutiveSuccesses++
		s.ConsecutiveFailures = 0
		s.LastError = ""
		if from == Unknown || (from == Unhealthy && s.ConsecutiveSuccesses >= t.c.cfg.SuccessesToHealthy) {
			s.Status = Healthy
		}
		return from
	}
	s.Failures++
	s.ConsecutiveFailures++
	s.ConsecutiveSuccesses = 0
	s.LastError = err.Error()
	if from != Unhealthy && s.ConsecutiveFailures >= t.c.cfg.FailuresToUnhealthy {
		s.Status = Unhealthy
	}
	return from
}

// reason explains a status change; t.mu is held.
func (t *target) reason(err error) string {
	if err != nil {
		return fmt.Sprintf("%d consecutive failures", t.state.ConsecutiveFailures)
	}
	return fmt.Sprintf("%d consecutive successes", t.state.ConsecutiveSuccesses)
}

// event starts an event of kind k with the target's snapshot; t.mu is held.
func (t *target) event(k resilience.EventKind, now time.Time, err error) resilience.Event {
	return resilience.Event{Kind: k, Policy: "health", Name: t.Name, Time: now, Err: err, Detail: t.snapshotLocked()}
}
