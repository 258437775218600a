package main

import (
	"time"

	"github.com/riprap-go/riprap/payments/gateway"
)

// jsonReport is the report as -json prints it: one line, the last of the
// output. Latencies are in milliseconds, times in seconds from the start
// of a run.
type jsonReport struct {
	Type        string       `json:"type"` // "report"
	Scenario    string       `json:"scenario"`
	Description string       `json:"description"`
	Seconds     float64      `json:"duration_seconds"`
	Rate        int          `json:"rate"`
	Concurrency int          `json:"concurrency"`
	Seed        uint64       `json:"seed"`
	Store       string       `json:"store"`
	Runs        []jsonRun    `json:"runs"`
	Windows     []jsonWindow `json:"fault_windows"`
	Checks      []jsonCheck  `json:"checks"` // comparing the runs
	Passed      bool         `json:"passed"`
	Verdict     string       `json:"verdict"`
}

type jsonRun struct {
	Run                string          `json:"run"`
	Protected          bool            `json:"protected"`
	Payments           int             `json:"payments"`
	PerSecond          float64         `json:"answered_per_second"`
	SucceededPerSecond float64         `json:"succeeded_per_second"`
	Final              map[string]int  `json:"final_states"`
	Reconciled         int             `json:"settled_by_reconciliation"`
	Latency            jsonPercentiles `json:"latency"`
	OutboxPeak         int             `json:"outbox_peak"`
	OutboxLeft         int             `json:"outbox_left"`
	DrainSeconds       float64         `json:"drain_seconds"`
	Invariants         []jsonCheck     `json:"invariants"`
	Services           []string        `json:"services"`
	// Failover is set for a run with two banks.
	Failover *jsonFailover `json:"failover,omitempty"`
}

// jsonFailover is what a two-bank run sent to its second bank instead of
// the primary.
type jsonFailover struct {
	Total          int64 `json:"failed_over"`
	RoutedAway     int64 `json:"routed_while_primary_unavailable"`
	TookOver       int64 `json:"taken_over_after_refusal"`
	PrimaryRouted  int64 `json:"routed_to_primary_first"`
	PrimaryRefused int64 `json:"refused_by_primary_unattempted"`
}

type jsonPercentiles struct {
	N     int     `json:"n"`
	P50ms float64 `json:"p50_ms"`
	P95ms float64 `json:"p95_ms"`
	P99ms float64 `json:"p99_ms"`
}

type jsonWindow struct {
	Service string          `json:"service"`
	Kind    string          `json:"kind"`
	Start   float64         `json:"start_seconds"`
	End     float64         `json:"end_seconds"`
	Runs    []jsonWindowRun `json:"runs"`
}

type jsonWindowRun struct {
	Run      string          `json:"run"`
	Latency  jsonPercentiles `json:"latency"`
	InFlight int             `json:"most_in_flight"`
	Calls    int             `json:"calls"`
	Probes   int             `json:"probes"`
	// Recovery is how the service's breaker came back: "never opened",
	// "did not close", or the time from the window's end to its close
	// (then also in RecoverySeconds). Empty without breakers.
	Recovery        string   `json:"recovery,omitempty"`
	RecoverySeconds *float64 `json:"recovery_seconds,omitempty"`
}

type jsonCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	NA     bool   `json:"not_applicable,omitempty"`
	Detail string `json:"detail"`
}

func (rep *report) jsonForm() jsonReport {
	sc := rep.scenario
	j := jsonReport{Type: "report", Scenario: sc.Name, Description: sc.Description, Seconds: sc.Duration.Seconds(),
		Rate: sc.Rate, Concurrency: rep.concurrency, Seed: rep.seed, Store: storeLabel(rep.store),
		Checks: jsonChecks(rep.checks), Passed: rep.passed(), Verdict: rep.verdict(), Runs: []jsonRun{}, Windows: []jsonWindow{}}
	for _, s := range rep.runs {
		j.Runs = append(j.Runs, jsonRunOf(s))
	}
	for i, f := range sc.Faults {
		w := jsonWindow{Service: f.Service, Kind: f.Kind, Start: f.Start.Seconds(), End: f.End.Seconds()}
		for _, s := range rep.runs {
			if i < len(s.faults) {
				w.Runs = append(w.Runs, jsonWindowOf(s, s.faults[i]))
			}
		}
		j.Windows = append(j.Windows, w)
	}
	return j
}

func jsonRunOf(s summary) jsonRun {
	r := jsonRun{Run: s.label, Protected: s.protected, Payments: s.payments, PerSecond: s.perSecond,
		SucceededPerSecond: s.succeededPerSecond, Final: map[string]int{}, Reconciled: s.reconciled,
		Latency: jsonPercentilesOf(s.all), OutboxPeak: s.outboxMax, OutboxLeft: s.outboxEnd,
		DrainSeconds: s.drain.Seconds(), Invariants: jsonChecks(s.invariants), Services: s.services}
	for _, st := range allStates {
		r.Final[string(st)] = s.final[st]
	}
	if s.twoBanks {
		f := s.failover
		r.Failover = &jsonFailover{Total: f.total(), RoutedAway: f.routedAway, TookOver: f.tookOver,
			PrimaryRouted: f.primaryRouted, PrimaryRefused: f.primaryRefused}
	}
	if !s.protected {
		delete(r.Final, string(gateway.Pending))
	} else {
		delete(r.Final, string(Unknown))
	}
	return r
}

func jsonWindowOf(s summary, f faultSummary) jsonWindowRun {
	w := jsonWindowRun{Run: s.label, Latency: jsonPercentilesOf(f.latency), InFlight: f.inFlight,
		Calls: f.calls.Calls, Probes: f.calls.Probes}
	if s.protected {
		w.Recovery = recoveryText(f.recovery)
		if f.recovery.closed {
			secs := f.recovery.after.Seconds()
			w.RecoverySeconds = &secs
		}
	}
	return w
}

func jsonPercentilesOf(p percentiles) jsonPercentiles {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return jsonPercentiles{N: p.n, P50ms: ms(p.p50), P95ms: ms(p.p95), P99ms: ms(p.p99)}
}

func jsonChecks(invs []invariant) []jsonCheck {
	out := []jsonCheck{}
	for _, inv := range invs {
		out = append(out, jsonCheck{Name: inv.name, OK: inv.ok, NA: inv.na, Detail: inv.detail})
	}
	return out
}
