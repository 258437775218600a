package main

import (
	"context"
	"fmt"

	"github.com/failsafe-go/failsafe-go"
	fscb "github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/health"
)

// Every breaker gets the same settings: open after 5 consecutive failures,
// wait cfg.openWait, then admit 3 probes and close after 3 successes.
const (
	tripAfter      = 5
	halfOpenProbes = 3
)

// healthConfig is the checker bound to riprap's breaker in
// "riprap+health": two failed probes in a row make the target unhealthy,
// one success healthy again; the intervals and the probe timeout come from
// the flags (by default a probe every 100ms, every 50ms while unhealthy,
// 25ms each).
func healthConfig(cfg config) health.Config {
	return health.Config{
		Interval:            cfg.probeEvery,
		UnhealthyInterval:   cfg.probeEveryUnhealthy,
		Timeout:             cfg.probeTimeout,
		FailuresToUnhealthy: 2,
		SuccessesToHealthy:  1,
	}
}

// guarded is one contender set up against one dependency: call makes one
// guarded call, stop releases what the set-up started.
type guarded struct {
	call func() error
	stop func()
}

// contender is one way of calling the dependency.
type contender struct {
	name    string
	breaker bool
	health  bool
	// build guards attempt (one call under the call timeout) and reports
	// breaker state changes to rec.
	build func(cfg config, dep *dependency, attempt func() error, rec *recorder) (guarded, error)
}

var contenders = []contender{
	{name: "none", build: buildNone},
	{name: "gobreaker", breaker: true, build: buildGobreaker},
	{name: "failsafe", breaker: true, build: buildFailsafe},
	{name: "riprap", breaker: true, build: buildRiprap},
	{name: "riprap-permit", breaker: true, build: buildRiprapPermit},
	{name: "riprap+health", breaker: true, health: true, build: buildRiprapHealth},
}

func nothing() {}

func buildNone(_ config, _ *dependency, attempt func() error, _ *recorder) (guarded, error) {
	return guarded{call: attempt, stop: nothing}, nil
}

func buildGobreaker(cfg config, _ *dependency, attempt func() error, rec *recorder) (guarded, error) {
	cb := gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name: "dep", MaxRequests: halfOpenProbes, Timeout: cfg.openWait,
		ReadyToTrip:   func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= tripAfter },
		OnStateChange: func(_ string, _, to gobreaker.State) { rec.mark(to.String()) },
	})
	call := func() error {
		_, err := cb.Execute(func() (struct{}, error) { return struct{}{}, attempt() })
		return err
	}
	return guarded{call: call, stop: nothing}, nil
}

func buildFailsafe(cfg config, _ *dependency, attempt func() error, rec *recorder) (guarded, error) {
	cb := fscb.NewBuilder[any]().
		WithFailureThreshold(tripAfter).WithDelay(cfg.openWait).WithSuccessThreshold(halfOpenProbes).
		OnStateChanged(func(e fscb.StateChangedEvent) { rec.mark(e.NewState.String()) }).
		Build()
	ex := failsafe.With[any](cb)
	return guarded{call: func() error { return ex.Run(attempt) }, stop: nothing}, nil
}

func newRiprapBreaker(cfg config, rec *recorder) (*breaker.Breaker, error) {
	return breaker.New(breaker.Config{
		Name: "dep", ConsecutiveFailures: tripAfter, OpenWait: cfg.openWait,
		MaxProbes: halfOpenProbes, SuccessesToClose: halfOpenProbes,
		Listeners: resilience.Listeners{resilience.OnStateChange(func(e resilience.Event) {
			if e.Kind == resilience.EventStateChange {
				rec.mark(e.To)
			}
		})},
	})
}

// riprapCall guards attempt, an error-only call, with br in a chain. The
// function is made once, like the peers' (a closure per call would be the
// usual form, and cost an allocation of its own).
func riprapCall(br *breaker.Breaker, attempt func() error) func() error {
	chain := resilience.NewChain(br)
	fn := func(context.Context) error { return attempt() }
	return func() error { return chain.Run(context.Background(), fn) }
}

// riprapPermitCall guards attempt with br's two-step form, which
// allocates nothing; the chain of riprapCall allocates its call record.
func riprapPermitCall(br *breaker.Breaker, attempt func() error) func() error {
	return func() error {
		p, err := br.Allow()
		if err != nil {
			return err
		}
		err = attempt()
		p.DoneErr(context.Background(), err)
		return err
	}
}

func buildRiprapPermit(cfg config, _ *dependency, attempt func() error, rec *recorder) (guarded, error) {
	br, err := newRiprapBreaker(cfg, rec)
	if err != nil {
		return guarded{}, err
	}
	return guarded{call: riprapPermitCall(br, attempt), stop: nothing}, nil
}

func buildRiprap(cfg config, _ *dependency, attempt func() error, rec *recorder) (guarded, error) {
	br, err := newRiprapBreaker(cfg, rec)
	if err != nil {
		return guarded{}, err
	}
	return guarded{call: riprapCall(br, attempt), stop: nothing}, nil
}

func buildRiprapHealth(cfg config, dep *dependency, attempt func() error, rec *recorder) (guarded, error) {
	br, err := newRiprapBreaker(cfg, rec)
	if err != nil {
		return guarded{}, err
	}
	hc, err := health.New(healthConfig(cfg), health.Target{Name: "dep", Probe: dep.Probe})
	if err != nil {
		return guarded{}, err
	}
	if err := health.BindBreaker(hc, "dep", br, health.BindOptions{}); err != nil {
		return guarded{}, err
	}
	if err := hc.Start(); err != nil {
		return guarded{}, fmt.Errorf("starting the health checker: %w", err)
	}
	return guarded{call: riprapCall(br, attempt), stop: hc.Stop}, nil
}
