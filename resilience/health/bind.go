package health

import (
	"reflect"
	"sync"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// Holder is what a health target drives: something that can be held open
// while the dependency is down and released when it is back. A
// *breaker.Breaker is a Holder (see breaker.Breaker.HoldOpen and
// breaker.Breaker.Release); declaring the two methods here keeps health
// free of the breaker package, and lets a fleet-wide breaker or a test
// double be bound the same way.
type Holder interface {
	// HoldOpen refuses calls because of the health signal, with
	// retryAfter as the hint for rejections; it is called again after
	// every probe while the target stays Unhealthy, to refresh the hint.
	// It reports false when the holder declined (a person's manual state
	// wins).
	HoldOpen(reason string, retryAfter time.Duration) bool
	// Release ends a hold, or an ordinary open wait, because the
	// dependency answered: to half-open, or closed when closeNow is set.
	// It reports whether it changed anything.
	Release(reason string, closeNow bool) bool
}

// BindOptions tunes [BindBreaker]. The zero value sends a recovered target's
// breaker to half-open.
type BindOptions struct {
	// CloseOnHealthy closes the breaker outright when the target turns
	// healthy, instead of letting real traffic confirm it in half-open.
	CloseOnHealthy bool
}

// binding makes one holder follow one target. It is level-triggered: after
// every probe it reads the target's current status, under its own lock, so
// a stale result cannot hold a breaker open after a recovery.
type binding struct {
	t    *target
	h    Holder
	opts BindOptions

	mu   sync.Mutex // protects held; serialises sync
	held bool       // this binding holds h open
}

// BindBreaker makes b, typically a *breaker.Breaker, follow the named
// target:
//
//   - while the target is Unhealthy, b is held open (HoldOpen) with reason
//     "health: …"; its rejections carry the time until the next probe as
//     RetryAfter, refreshed after every probe;
//   - when the target turns Healthy — from Unhealthy, or from Unknown — b is
//     released (Release) to half-open, so that real traffic confirms the
//     recovery, or closed with [BindOptions.CloseOnHealthy]. This also cuts
//     short an ordinary open wait of b: the dependency answered, so there
//     is no reason to keep refusing. A target that stays Healthy does not
//     touch b again.
//
// The breaker's own trip rules keep working while the target is Healthy or
// Unknown: real failures open it even when the probe still passes (the
// probe may test less than real calls do), and it then recovers by its own
// open wait and half-open probes. A person's manual state (ForceOpen,
// ForceClosed, MetricsOnly) always wins over the health signal. When the
// checker stops, held breakers are released to half-open.
//
// Declare the timeout of the calls b protects as the target's
// [Target.CallTimeout], so that the probe never judges the dependency by a
// stricter bar than those calls.
//
// If the target is already Unhealthy, b is held open at once. BindBreaker
// fails with an error matching [ErrUnknownTarget] for an unknown name, and
// with a [*resilience.ConfigError] for a nil checker or holder. b's
// methods run on the checker's goroutines, after a probe and before the
// checker's listeners hear of it; they must not probe the same target.
func BindBreaker(c *Checker, target string, b Holder, opts BindOptions) error {
	if isNil(b) {
		return &resilience.ConfigError{Component: "health", Name: target, Field: "b", Rule: "must not be nil", Value: b}
	}
	if c == nil {
		return &resilience.ConfigError{Component: "health", Name: target, Field: "c", Rule: "must not be nil", Value: nil}
	}
	t, err := c.target(target)
	if err != nil {
		return err
	}
	bd := &binding{t: t, h: b, opts: opts}
	t.bindMu.Lock()
	t.binds = append(t.binds, bd)
	t.bindMu.Unlock()
	bd.sync(false, target+" unhealthy")
	return nil
}

// isNil reports whether h is nil or holds a nil pointer, which would panic
// at the first probe.
func isNil(h Holder) bool {
	if h == nil {
		return true
	}
	v := reflect.ValueOf(h)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Interface, reflect.Slice, reflect.Chan:
		return v.IsNil()
	}
	return false
}

// syncBindings makes every holder bound to t follow its current status.
// recovered says the probe just turned t Healthy.
func (t *target) syncBindings(recovered bool, reason string) {
	t.bindMu.Lock()
	bs := t.binds // bindings are only appended: this prefix never changes
	t.bindMu.Unlock()
	for _, bd := range bs {
		bd.sync(recovered, reason)
	}
}

// sync makes the holder match the target's current status.
func (bd *binding) sync(recovered bool, reason string) {
	bd.mu.Lock()
	defer bd.mu.Unlock()
	s := bd.t.snapshot()
	switch {
	case s.Status == Unhealthy:
		if reason == "" {
			reason = "still unhealthy"
		}
		bd.held = bd.h.HoldOpen("health: "+reason, retryAfter(s, bd.t.c.clk.Now())) || bd.held
	case s.Status == Healthy && (bd.held || recovered):
		bd.h.Release("health: "+reason, bd.opts.CloseOnHealthy)
		bd.held = false
	}
}

// releaseHolds lets go of every holder t's bindings hold, for Stop.
func (t *target) releaseHolds() {
	t.bindMu.Lock()
	bs := t.binds
	t.bindMu.Unlock()
	for _, bd := range bs {
		bd.mu.Lock()
		if bd.held {
			bd.h.Release("health: checker stopped", false)
			bd.held = false
		}
		bd.mu.Unlock()
	}
}
