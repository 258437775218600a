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
// them. An admitted call costs one atomic load.
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
	if g.err != nil {
		return g.err
	}
	if Status(g.t.status.Load()) == Unhealthy {
		return g.t.reject()
	}
	return next.Run(ctx)
}

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
