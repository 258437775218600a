package health

import (
	"errors"
	"fmt"
	"sync"
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

// binding makes one breaker follow one target. It is level-triggered: on
// every event of the target it reads the target's current status, under
// its own lock, so a stale event delivered late cannot hold a breaker open
// after a recovery.
type binding struct {
	t    *target
	b    *breaker.Breaker
	opts BindOptions

	mu   sync.Mutex // protects held; serialises sync
	held bool       // this binding holds b open
}

// BindBreaker makes b follow the named target:
//
//   - while the target is Unhealthy, b is held open
//     ([breaker.Breaker.HoldOpen]) with reason "health: …"; its rejections
//     carry the time until the next probe as RetryAfter, refreshed after
//     every probe;
//   - when the target turns Healthy — from Unhealthy, or from Unknown — b is
//     released ([breaker.Breaker.Release]) to half-open, so that real
//     traffic confirms the recovery, or closed with
//     [BindOptions.CloseOnHealthy]. This also cuts short an ordinary open
//     wait of b: the dependency answered, so there is no reason to keep
//     refusing. A target that stays Healthy does not touch b again.
//
// The breaker's own trip rules keep working while the target is Healthy or
// Unknown: real failures open it even when the probe still passes (the
// probe may test less than real calls do), and it then recovers by its own
// open wait and half-open probes. A person's manual state (ForceOpen,
// ForceClosed, MetricsOnly) always wins over the health signal. When the
// checker stops, held breakers are released to half-open.
//
// If the target is already Unhealthy, b is held open at once. b's own
// listeners run on the checker's goroutines and must not call the checker
// synchronously.
func BindBreaker(c *Checker, target string, b *breaker.Breaker, opts BindOptions) error {
	if c == nil || b == nil {
		return errors.New("health: BindBreaker needs a Checker and a Breaker, got nil")
	}
	t, ok := c.targets[target]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownTarget, target)
	}
	bd := &binding{t: t, b: b, opts: opts}
	c.bindMu.Lock()
	if c.binds == nil {
		c.binds = make(map[string][]*binding)
	}
	c.binds[target] = append(c.binds[target], bd)
	c.bindMu.Unlock()
	bd.sync(false, target+" unhealthy")
	return nil
}

// notifyBindings is the checker's first listener.
func (c *Checker) notifyBindings(e resilience.Event) {
	if e.Kind != resilience.EventStateChange && e.Kind != resilience.EventOutcome {
		return
	}
	c.bindMu.RLock()
	bs := c.binds[e.Name]
	c.bindMu.RUnlock()
	recovered := e.Kind == resilience.EventStateChange && e.To == Healthy.String()
	for _, bd := range bs {
		bd.sync(recovered, e.Reason)
	}
}

// sync makes the breaker match the target's current status. recovered says
// the event being handled is a change to Healthy.
func (bd *binding) sync(recovered bool, reason string) {
	bd.mu.Lock()
	defer bd.mu.Unlock()
	s := bd.t.snapshot()
	switch {
	case s.Status == Unhealthy:
		if reason == "" {
			reason = "still unhealthy"
		}
		bd.held = bd.b.HoldOpen("health: "+reason, retryAfter(s, bd.t.c.cfg.Clock.Now())) || bd.held
	case s.Status == Healthy && (bd.held || recovered):
		bd.b.Release("health: "+reason, bd.opts.CloseOnHealthy)
		bd.held = false
	}
}

// releaseHolds lets go of every breaker a binding holds, for Stop.
func (c *Checker) releaseHolds() {
	c.bindMu.RLock()
	defer c.bindMu.RUnlock()
	for _, bs := range c.binds {
		for _, bd := range bs {
			bd.mu.Lock()
			if bd.held {
				bd.b.Release("health: checker stopped", false)
				bd.held = false
			}
			bd.mu.Unlock()
		}
	}
}

func retryAfter(s TargetSnapshot, now time.Time) time.Duration {
	if s.NextProbe.IsZero() {
		return 0
	}
	return max(0, s.NextProbe.Sub(now))
}
