package gateway

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// Status is a snapshot of the whole gateway, for a status page.
type Status struct {
	// Payments counts payments by their current state (a pending payment
	// that the reconciler settles moves to its final state).
	Payments map[State]int `json:"payments"`
	// Pending is the number of payments awaiting reconciliation.
	Pending int `json:"pending"`
	// LogQueued is the number of log entries waiting in the outbox (or in
	// memory while the outbox is full).
	LogQueued int `json:"log_queued"`
	// LogRefused lists entries the log refused for good (see RefusedEntry).
	LogRefused []RefusedEntry          `json:"log_refused,omitempty"`
	Breakers   []breaker.Snapshot      `json:"breakers"`
	Health     []health.TargetSnapshot `json:"health"`
	BankLimit  ratelimit.Snapshot      `json:"bank_limit"`
}

// Status returns a snapshot of the gateway.
func (g *Gateway) Status() Status {
	counts, pending := g.ledger.snapshot()
	s := Status{Payments: counts, Pending: pending, LogQueued: g.log.depth(),
		LogRefused: g.log.refusedEntries(), Breakers: g.cfg.Registry.Snapshots(), BankLimit: g.bank.limiter.Snapshot()}
	if g.checker != nil {
		s.Health = g.checker.Snapshot()
	}
	return s
}

// StatusHandler serves [Gateway.Status] as JSON.
func (g *Gateway) StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(g.Status())
	})
}

// prober is implemented by clients that can check their service's health
// (the HTTP clients of payments/httpapi).
type prober interface {
	Health(ctx context.Context) error
}

// newChecker probes every dependency whose client can be probed and binds
// each to its breaker. The bank is critical for readiness; FX (which has a
// fallback) and the log (which has the outbox) are not.
func newChecker(cfg *Config) (*health.Checker, error) {
	if cfg.Health.Disabled {
		return nil, nil
	}
	var targets []health.Target
	for _, d := range []struct {
		name     string
		client   any
		critical bool
	}{{"bank", cfg.Bank, true}, {"fx", cfg.FX, false}, {"log", cfg.Log, false}} {
		if p, ok := d.client.(prober); ok {
			targets = append(targets, health.Target{Name: d.name, Probe: p.Health, Critical: d.critical})
		}
	}
	if len(targets) == 0 {
		return nil, nil
	}
	h := cfg.Health
	c, err := health.New(health.Config{Interval: h.Interval, UnhealthyInterval: h.UnhealthyInterval, Timeout: h.Timeout,
		FailuresToUnhealthy: h.FailuresToUnhealthy, SuccessesToHealthy: h.SuccessesToHealthy,
		Clock: cfg.Clock, Listeners: cfg.Listeners}, targets...)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		b, _ := cfg.Registry.Get(t.Name)
		if err := health.BindBreaker(c, t.Name, b, health.BindOptions{CloseOnHealthy: cfg.Health.CloseOnHealthy}); err != nil {
			return nil, err
		}
	}
	return c, nil
}
