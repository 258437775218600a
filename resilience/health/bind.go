package health

import (
	"errors"
	"fmt"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// BindOptions tunes [BindBreaker]. The zero value sends a recovered target's
// breaker to half-open.
type BindOptions struct {
	// CloseOnHealthy closes the breaker outright when the target turns
	// healthy, instead of letting real traffic confirm it in half-open.
	CloseOnHealthy bool
}

type binding struct {
	b    *breaker.Breaker
	opts BindOptions
}

// BindBreaker makes b follow the named target:
//
//   - when the target turns Unhealthy, b is held open ([breaker.Breaker.HoldOpen])
//     with reason "health: …"; its rejections carry the time until the next
//     probe as RetryAfter, refreshed after every probe;
//   - when the target turns Healthy again, b is released
//     ([breaker.Breaker.Release]) to half-open, so that real traffic confirms
//     the recovery, or closed with [BindOptions.CloseOnHealthy]. A healthy
//     target also ends an ordinary open wait of b early: the dependency
//     answered, so there is no reason to keep refusing.
//
// The breaker's own trip rules keep working while the target is Healthy or
// Unknown: real failures open it even when the probe still passes (the
// probe may test less than real calls do), and it then recovers by its own
// open wait and half-open probes. A person's manual state (ForceOpen,
// ForceClosed, MetricsOnly) always wins over the health signal.
//
// If the target is already Unhealthy, b is held open at once. Binding the
// same breaker twice makes it follow twice, harmlessly.
func BindBreaker(c *Checker, target string, b *breaker.Breaker, opts BindOptions) error {
	if c == nil || b == nil {
		return errors.New("health: BindBreaker needs a Checker and a Breaker, got nil")
	}
	t, ok := c.targets[target]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownTarget, target)
	}
	c.bindMu.Lock()
	if c.binds == nil {
		c.binds = make(map[string][]binding)
	}
	c.binds[target] = append(c.binds[target], binding{b: b, opts: opts})
	c.bindMu.Unlock()
	if s := t.snapshot(); s.Status == Unhealthy {
		b.HoldOpen("health: "+target+" unhealthy", retryAfter(s, c.cfg.Clock.Now()))
	}
	return nil
}

// notifyBindings is the checker's first listener.
func (c *Checker) notifyBindings(e resilience.Event) {
	c.bindMu.RLock()
	bs := c.binds[e.Name]
	c.bindMu.RUnlock()
	if len(bs) == 0 {
		return
	}
	s, _ := e.Detail.(TargetSnapshot)
	for _, bd := range bs {
		switch {
		case e.Kind == resilience.EventStateChange && s.Status == Unhealthy:
			bd.b.HoldOpen("health: "+e.Reason, retryAfter(s, e.Time))
		case e.Kind == resilience.EventOutcome && s.Status == Unhealthy:
			bd.b.HoldOpen("health: still unhealthy", retryAfter(s, e.Time))
		case e.Kind == resilience.EventStateChange && s.Status == Healthy:
			bd.b.Release("health: "+e.Reason, bd.opts.CloseOnHealthy)
		}
	}
}

func retryAfter(s TargetSnapshot, now time.Time) time.Duration {
	if s.NextProbe.IsZero() {
		return 0
	}
	return max(0, s.NextProbe.Sub(now))
}
