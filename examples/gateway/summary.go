package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/riprap-go/riprap/payments/gateway"
)

// percentiles of a set of latencies; n is how many there were.
type percentiles struct {
	n             int
	p50, p95, p99 time.Duration
}

func percentilesOf(ds []time.Duration) percentiles {
	if len(ds) == 0 {
		return percentiles{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q int) time.Duration { return s[min(len(s)-1, (len(s)*q+99)/100-1)] } // nearest rank
	return percentiles{n: len(s), p50: at(50), p95: at(95), p99: at(99)}
}

// recovery is how long a dependency's breaker took to close after one of
// its fault windows ended.
type recovery struct {
	fault  Fault
	opened bool          // the breaker left closed during the window
	closed bool          // and closed again afterwards
	after  time.Duration // from the window's end to the close
}

// faultSummary is what one fault window cost.
type faultSummary struct {
	fault    Fault
	latency  percentiles // payments due during the window
	inFlight int         // most payments in flight at once during it
	calls    windowCalls // requests sent to the faulty service during it
	recovery recovery
}

// summary is the figures of one run that the report prints.
type summary struct {
	label              string
	protected          bool
	oneBank            bool     // a two-bank scenario run with the primary only
	twoBanks           bool     // protected, with a second bank to fail over to
	failover           failover // with two banks
	payments           int
	perSecond          float64 // payments answered per second of traffic
	succeededPerSecond float64
	final              map[gateway.State]int
	reconciled         int // answered pending, settled by the reconciler
	byState            map[gateway.State]percentiles
	all                percentiles
	faults             []faultSummary
	calls              map[string]callStats
	outboxMax          int
	outboxEnd          int
	drain              time.Duration
	invariants         []invariant
	passed             bool
	services           []string // what each service's injector and the bank saw
}

func summarize(r *runResult) summary {
	s := summary{label: r.label, protected: r.protected, oneBank: r.oneBank, twoBanks: isTwoBankRun(r), failover: failoverOf(r.acquirers), payments: len(r.payments), final: map[gateway.State]int{},
		byState: map[gateway.State]percentiles{}, calls: r.calls, outboxMax: r.outboxMax, drain: r.drain,
		invariants: r.invariants, passed: r.passed()}
	if n := len(r.samples); n > 0 {
		s.outboxEnd = r.samples[n-1].outbox
	}
	for _, name := range r.scenario.services() {
		in := r.injected[name]
		s.services = append(s.services, fmt.Sprintf("%-5s received %d requests: %d reached the service (%d replies lost), %d refused by an outage, %d errors injected, %d given up by the client while delayed",
			name, in.Requests, in.Passed, in.LostReplies, in.Outages, in.Errors, in.Cancelled))
	}
	s.services = append(s.services, fmt.Sprintf("bank applied %d debits, answered %d repeats from its idempotency table and %d status lookups",
		r.bank.DebitsApplied, r.bank.Replays, r.bank.StatusCalls))
	if r.scenario.twoBanks() {
		s.services = append(s.services, fmt.Sprintf("%s applied %d debits, answered %d repeats from its idempotency table and %d status lookups",
			secondBank, r.bank2.DebitsApplied, r.bank2.Replays, r.bank2.StatusCalls))
	}
	byState := map[gateway.State][]time.Duration{}
	var all []time.Duration
	answered := 0
	for _, p := range r.payments {
		if p.first == "" {
			continue
		}
		answered++
		s.final[p.final]++
		if p.first == gateway.Pending && p.final != gateway.Pending {
			s.reconciled++
		}
		byState[p.final] = append(byState[p.final], p.latency)
		all = append(all, p.latency)
	}
	for st, ds := range byState {
		s.byState[st] = percentilesOf(ds)
	}
	s.all = percentilesOf(all)
	if r.traffic > 0 {
		s.perSecond = float64(answered) / r.traffic.Seconds()
		s.succeededPerSecond = float64(s.final[gateway.Succeeded]) / r.traffic.Seconds()
	}
	for _, f := range r.scenario.Faults {
		s.faults = append(s.faults, summarizeFault(r, f))
	}
	return s
}

func summarizeFault(r *runResult, f Fault) faultSummary {
	fs := faultSummary{fault: f, recovery: recoveryOf(r.changes, f)}
	var ds []time.Duration
	for _, p := range r.payments {
		if p.first != "" && p.at >= f.Start && p.at < f.End {
			ds = append(ds, p.latency)
		}
	}
	fs.latency = percentilesOf(ds)
	for _, smp := range r.samples {
		if smp.t >= f.Start && smp.t < f.End {
			fs.inFlight = max(fs.inFlight, smp.inFlight)
		}
	}
	for i, w := range r.scenario.windows(f.Service) {
		if w == f && i < len(r.calls[f.Service].InWindow) {
			fs.calls = r.calls[f.Service].InWindow[i]
		}
	}
	return fs
}

// recoveryOf finds, in a breaker's transitions, whether it opened because
// of the fault (left closed between the window's start and end) and when
// it first closed after the window ended.
func recoveryOf(changes []stateChange, f Fault) recovery {
	rc := recovery{fault: f}
	for _, c := range changes {
		if c.name != f.Service {
			continue
		}
		switch {
		case c.t >= f.Start && c.t < f.End && c.from == "closed":
			rc.opened = true
		case c.t >= f.End && rc.opened && c.to == "closed":
			rc.closed, rc.after = true, c.t-f.End
			return rc
		}
	}
	return rc
}

// isTwoBankRun reports whether r ran a gateway with two banks.
func isTwoBankRun(r *runResult) bool { return r.protected && !r.oneBank && r.scenario.twoBanks() }
