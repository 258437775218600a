package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// maxRefusedShown bounds the refused log entries a Status lists.
const maxRefusedShown = 100

// Status is a snapshot of the whole gateway, for a status page. It is
// plain data and marshals to JSON with snake_case keys. It carries IDs,
// states and counts, never a payer, a payee or an amount.
type Status struct {
	Instance string `json:"instance"`
	// Payments counts answered payments by their current state (a pending
	// payment that the reconciler settles moves to its final state).
	Payments map[State]int `json:"payments"`
	// Pending is the number of payments awaiting reconciliation; Open, of
	// payments claimed and not answered yet (in flight, or left by a
	// stopped gateway until their claims expire).
	Pending int `json:"pending"`
	Open    int `json:"open"`
	// LogQueued is the number of log entries waiting in the outbox;
	// OutboxCapacity bounds them together with the slots reserved by open
	// and pending payments (see store.Config.MaxOutbox).
	LogQueued      int `json:"log_queued"`
	OutboxCapacity int `json:"outbox_capacity"`
	// LogRefusedCount counts the entries the log refused for good;
	// LogRefused lists the first of them by their IDs.
	LogRefusedCount int            `json:"log_refused_count"`
	LogRefused      []RefusedEntry `json:"log_refused,omitempty"`
	// StoreError is set when the store could not be read: the counts
	// above are then zero, and the gateway refuses payments.
	StoreError string `json:"store_error,omitempty"`
	// StoreProblems is damage the store reports (see store.Stats).
	StoreProblems []string                `json:"store_problems,omitempty"`
	Recovery      Recovery                `json:"recovery"`
	Breakers      []breaker.Snapshot      `json:"breakers"`
	Health        []health.TargetSnapshot `json:"health"`
	BankLimit     ratelimit.Snapshot      `json:"bank_limit"`
}

// Status returns a snapshot of the gateway. A store that cannot be read
// shows as StoreError rather than failing the whole status.
func (g *Gateway) Status(ctx context.Context) Status {
	s := Status{Instance: g.s.Instance, Payments: map[State]int{}, Recovery: g.Recovery(),
		Breakers: g.s.Registry.Snapshots(), BankLimit: g.bank.limiter.Snapshot()}
	if g.checker != nil {
		s.Health = g.checker.Snapshot()
	}
	st, err := g.store.Stats(ctx)
	if err == nil {
		s.LogRefused, err = g.log.refused(ctx, maxRefusedShown)
	}
	if err != nil {
		s.StoreError = err.Error()
		return s
	}
	g.fill(&s, st)
	return s
}

func (g *Gateway) fill(s *Status, st store.Stats) {
	for k, n := range st.Payments {
		s.Payments[State(k)] = n
	}
	s.Pending, s.Open, s.LogQueued, s.OutboxCapacity = st.Pending, st.Open, st.Outbox, st.MaxOutbox
	s.LogRefusedCount, s.StoreProblems = st.Refused, st.Problems
}

// StatusHandler serves [Gateway.Status] as JSON to GET and HEAD requests.
func (g *Gateway) StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(g.Status(r.Context()))
	})
}

// prober is implemented by clients that can check their service's health
// (the HTTP clients of payments/httpapi).
type prober interface {
	Health(ctx context.Context) error
}

// newChecker probes every dependency whose client can be probed and binds
// each to its breaker — for the bank, the breaker of transfers only. Each
// target declares the timeout of the calls it protects, so that package
// health never probes by a stricter bar. The bank is critical for
// readiness; FX (which has a fallback) and the log (which has the outbox)
// are not.
func newChecker(s *settings) (*health.Checker, error) {
	if s.Health.Disabled {
		return nil, nil
	}
	var targets []health.Target
	for _, d := range []struct {
		name     string
		client   any
		critical bool
		field    string
		timeout  time.Duration
	}{
		{"bank", s.Bank, true, "BankPolicy.Timeout", s.BankPolicy.Timeout},
		{"fx", s.FX, false, "FXPolicy.Timeout", s.FXPolicy.Timeout},
		{"log", s.Log, false, "LogPolicy.Timeout", s.LogPolicy.Timeout},
	} {
		p, ok := d.client.(prober)
		if !ok {
			continue
		}
		if t := s.Health.Timeout; t > 0 && t < d.timeout {
			return nil, configError("Health.Timeout", fmt.Sprintf("must be at least %s (%s): the %s's probe must not be stricter than its calls",
				d.field, d.timeout, d.name), t)
		}
		targets = append(targets, health.Target{Name: d.name, Probe: p.Health, Critical: d.critical, CallTimeout: d.timeout})
	}
	if len(targets) == 0 {
		return nil, nil
	}
	h := s.Health
	c, err := health.New(health.Config{Interval: h.Interval, UnhealthyInterval: h.UnhealthyInterval, Timeout: h.Timeout,
		FailuresToUnhealthy: h.FailuresToUnhealthy, SuccessesToHealthy: h.SuccessesToHealthy,
		Clock: s.policyClock(), Listeners: s.Listeners}, targets...)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		b, _ := s.Registry.Get(t.Name)
		if err := health.BindBreaker(c, t.Name, b, health.BindOptions{CloseOnHealthy: h.CloseOnHealthy}); err != nil {
			return nil, err
		}
	}
	return c, nil
}
