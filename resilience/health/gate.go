package health

import (
	"context"
	"errors"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// ErrUnhealthy is matched (errors.Is) by the rejection a gate returns while
// its target is Unhealthy.
var ErrUnhealthy = errors.New("health: dependency unhealthy")

// Gate returns a guard that refuses calls at once while the named target is
// Unhealthy, with a [resilience.Rejection] that matches [ErrUnhealthy] and
// carries the time until the next probe as its RetryAfter. Unknown and
// Healthy targets let calls through: the checker has no evidence against
// them. An admitted call costs one atomic load. The guard is a
// [resilience.Stepper], so a pipeline of it and a breaker runs without a
// call record.
//
// The guard goes into a pipeline of any result type:
//
//	p := resilience.NewPipeline[Quote](checker.Gate("fx"), deadline)
//
// Gate does not return an error: for a name the checker does not have (or
// a nil checker), every call through the guard fails with an error matching
// [ErrUnknownTarget], without reaching the dependency. Use
// [Checker.Lookup] to check a name first.
func (c *Checker) Gate(name string) resilience.Guard {
	t, err := c.target(name)
	return &gate{t: t, err: err}
}

type gate struct {
	t   *target
	err error // set when t is nil
}

func (g *gate) Guard(ctx context.Context, next resilience.Next) error {
	if _, err := g.Enter(ctx); err != nil {
		return err
	}
	return next.Run(ctx)
}

// Enter refuses a call while the target is unhealthy, making the gate a
// [resilience.Stepper]. It does not look at the context: a gate costs a
// load, and the guards around it judge a done context.
func (g *gate) Enter(context.Context) (resilience.Ticket, error) {
	if g.err != nil {
		return resilience.Ticket{}, g.err
	}
	if Status(g.t.status.Load()) == Unhealthy {
		return resilience.Ticket{}, g.t.reject()
	}
	return resilience.Ticket{}, nil
}

// Exit does nothing: the gate follows the probes, not the calls.
func (g *gate) Exit(context.Context, resilience.Ticket, error) {}

// reject builds the rejection and reports it to listeners that want it.
func (t *target) reject() error {
	now := t.c.clk.Now()
	err := resilience.Reject("health", t.Name, ErrUnhealthy, retryAfter(t.snapshot(), now))
	if t.c.events.Wants(resilience.EventRejection) {
		t.c.events.Emit(resilience.Event{Kind: resilience.EventRejection, Policy: "health", Name: t.Name,
			Time: now, Err: err})
	}
	return err
}

// retryAfter is the time until the next planned probe, zero when none is
// planned.
func retryAfter(s TargetSnapshot, now time.Time) time.Duration {
	if s.NextProbe.IsZero() {
		return 0
	}
	return max(0, s.NextProbe.Sub(now))
}
