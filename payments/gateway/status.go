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
	// BankLimit is the rate limiter of the first acquirer (the only one
	// of a gateway built with Config.Bank); Acquirers shows every one.
	BankLimit ratelimit.Snapshot `json:"bank_limit"`
	// Acquirers shows each bank in Config order (one, named "bank", for
	// a gateway built with Config.Bank).
	Acquirers []AcquirerStatus `json:"acquirers"`
}

// AcquirerStatus is one acquirer as the router sees it, and what it has
// done since the gateway started. It is plain data.
type AcquirerStatus struct {
	Name   string `json:"name"`
	Weight int    `json:"weight,omitempty"`
	// Available reports whether routing prefers the acquirer now: its
	// breaker admits calls and its health check (if any) does not say it
	// is down. Unavailable acquirers are tried after every available one.
	Available     bool          `json:"available"`
	Breaker       breaker.State `json:"breaker"`
	StatusBreaker breaker.State `json:"status_breaker"`
	// Health is the health check's status ("healthy", "unhealthy",
	// "unknown"), empty when the bank is not probed.
	Health string             `json:"health,omitempty"`
	Limit  ratelimit.Snapshot `json:"limit"`
	Counts AcquirerCounts     `json:"counts"`
}

// AcquirerCounts counts what one acquirer did with payments since the
// gateway started. It is plain data.
type AcquirerCounts struct {
	// Routed: payments that tried this acquirer first.
	Routed int64 `json:"routed"`
	// Sent: payments handed to the bank (recorded as started there).
	Sent int64 `json:"sent"`
	// Refused: payments it refused without attempting them (its guards,
	// or a "not processed" answer): each went on to the next acquirer, or
	// was rejected when none was left.
	Refused int64 `json:"refused"`
	// TookOver: payments it took after another acquirer refused them.
	TookOver int64 `json:"took_over"`
	// Succeeded, Declined and Pending count how the payments Pay sent
	// here ended; Reconciled, the pending ones the reconciler settled
	// here later.
	Succeeded  int64 `json:"succeeded"`
	Declined   int64 `json:"declined"`
	Pending    int64 `json:"pending"`
	Reconciled int64 `json:"reconciled"`
}

// acquirerStatuses shows every acquirer.
func (g *Gateway) acquirerStatuses() []AcquirerStatus {
	out := make([]AcquirerStatus, 0, len(g.router.acqs))
	for _, a := range g.router.acqs {
		c := &a.counts
		st := AcquirerStatus{Name: a.name, Weight: a.weight, Available: g.router.available(a),
			Breaker: a.path.breaker.State(), StatusBreaker: a.path.statusBreaker.State(), Limit: a.path.limiter.Snapshot(),
			Counts: AcquirerCounts{Routed: c.routed.Load(), Sent: c.sent.Load(), Refused: c.refused.Load(),
				TookOver: c.tookOver.Load(), Succeeded: c.succeeded.Load(), Declined: c.declined.Load(),
				Pending: c.pending.Load(), Reconciled: c.reconciled.Load()}}
		if g.checker != nil {
			if ts, ok := g.checker.Lookup(a.name); ok {
				st.Health = ts.Status.String()
			}
		}
		out = append(out, st)
	}
	return out
}

// Status returns a snapshot of the gateway. A store that cannot be read
// shows as StoreError rather than failing the whole status.
func (g *Gateway) Status(ctx context.Context) Status {
	s := Status{Instance: g.s.Instance, Payments: map[State]int{}, Recovery: g.Recovery(),
		Breakers: g.s.Registry.Snapshots(), BankLimit: g.router.acqs[0].path.limiter.Snapshot(),
		Acquirers: g.acquirerStatuses()}
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

// probed is one dependency a health check may probe.
type probed struct {
	name     string
	client   any
	critical bool
	field    string // the field of its call timeout, for a config error
	timeout  time.Duration
}

// probedDependencies lists the gateway's dependencies, each acquirer by
// its name. A lone bank is critical for readiness; of several, none is
// (another takes the payments of one that is down), and neither is FX
// (which has a fallback) nor the log (which has the outbox).
func probedDependencies(s *settings) []probed {
	var out []probed
	for i, a := range s.acquirers {
		field := "BankPolicy.Timeout"
		if len(s.Acquirers) > 0 {
			field = fmt.Sprintf("Acquirers[%d].Policy.Timeout", i)
		}
		out = append(out, probed{a.Name, a.Bank, len(s.acquirers) == 1, field, a.Policy.Timeout})
	}
	return append(out, probed{"fx", s.FX, false, "FXPolicy.Timeout", s.FXPolicy.Timeout},
		probed{"log", s.Log, false, "LogPolicy.Timeout", s.LogPolicy.Timeout})
}

// newChecker probes every dependency whose client can be probed and binds
// each to its breaker — for a bank, the breaker of transfers only. Each
// target declares the timeout of the calls it protects, so that package
// health never probes by a stricter bar.
func newChecker(s *settings) (*health.Checker, error) {
	if s.Health.Disabled {
		return nil, nil
	}
	var targets []health.Target
	for _, d := range probedDependencies(s) {
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
