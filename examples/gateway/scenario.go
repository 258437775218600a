package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/riprap-go/riprap/payments/sim"
)

// The three simulated dependencies, in the order reports list them.
var services = []string{"bank", "fx", "log"}

// secondBank is the service name of the second bank of a scenario with
// Banks: 2, and the gateway's name for it as an acquirer (so its breakers
// are "bank2" and "bank2-status"). The first is "bank".
const secondBank = "bank2"

// maxBanks bounds Scenario.Banks.
const maxBanks = 2

// Fault kinds a scenario can schedule.
const (
	// KindOutage: the service refuses every request at once with a 503 and
	// a Retry-After (a load balancer with no healthy backend).
	KindOutage = "outage"
	// KindHang: the service accepts requests and never answers; each one
	// waits until the client gives up (a dead host behind a live socket).
	KindHang = "hang"
	// KindSlowdown: every request is delayed by Extra.
	KindSlowdown = "slowdown"
)

// hangDelay is how long a hung request is held: longer than any client
// timeout, so the client always gives up first.
const hangDelay = 5 * time.Minute

// Fault is one scheduled fault window of one service, as offsets from the
// start of the run.
type Fault struct {
	Service string        `json:"service"`
	Kind    string        `json:"kind"`
	Start   time.Duration `json:"start"`
	End     time.Duration `json:"end"`
	Extra   time.Duration `json:"extra,omitempty"` // slowdown only
}

// Noise is the background misbehaviour of a service for the whole run.
type Noise struct {
	ErrorBP     int           `json:"error_bp"`      // injected 503s, in basis points
	LostReplyBP int           `json:"lost_reply_bp"` // committed, reply lost (502)
	Latency     time.Duration `json:"latency"`       // fixed latency
	Jitter      time.Duration `json:"jitter"`        // plus uniform [0, Jitter]
	// AppendErrorBP (the log only) fails that share of appends inside the
	// log: one entry of a batch fails alone, the others are stored.
	AppendErrorBP int `json:"append_error_bp"`
}

// Scenario is a whole drill: how long, how many payments per second, and
// which faults when. It is plain data.
type Scenario struct {
	Name        string
	Description string
	Duration    time.Duration
	Rate        int // payments per second
	// Banks is 2 for a gateway with a second bank (secondBank) to fail
	// over to; 0 or 1 for the primary only. The drill then runs the
	// scenario a third time, protected with the primary only, to compare.
	Banks  int
	Faults []Fault
	Noise  map[string]Noise
}

// defaultNoise is a healthy but imperfect world: a little latency and,
// at the bank, the odd lost reply that only reconciliation can settle.
func defaultNoise() map[string]Noise {
	return map[string]Noise{
		"bank": {LostReplyBP: 50, Latency: 2 * time.Millisecond, Jitter: 8 * time.Millisecond},
		"fx":   {Latency: time.Millisecond, Jitter: 4 * time.Millisecond},
		"log":  {Latency: time.Millisecond, Jitter: 4 * time.Millisecond},
	}
}

// withNoise returns defaultNoise with one service's noise replaced.
func withNoise(service string, n Noise) map[string]Noise {
	m := defaultNoise()
	m[service] = n
	return m
}

// builtins are the scenarios -scenario accepts by name. Their windows are
// written for a 12s run and scale with -duration.
var builtins = map[string]Scenario{
	"drill": {
		Name:        "drill",
		Description: "normal → bank hangs → FX slows down → log refuses → recovery",
		Duration:    12 * time.Second, Rate: 300, Noise: defaultNoise(),
		Faults: []Fault{
			{Service: "bank", Kind: KindHang, Start: 2 * time.Second, End: 5 * time.Second},
			{Service: "fx", Kind: KindSlowdown, Start: 5500 * time.Millisecond, End: 7500 * time.Millisecond, Extra: time.Second},
			{Service: "log", Kind: KindOutage, Start: 7500 * time.Millisecond, End: 9500 * time.Millisecond},
		},
	},
	"bank-outage": {
		Name:        "bank-outage",
		Description: "normal → the bank refuses everything with 503 → recovery",
		Duration:    12 * time.Second, Rate: 300, Noise: defaultNoise(),
		Faults: []Fault{{Service: "bank", Kind: KindOutage, Start: 3 * time.Second, End: 8 * time.Second}},
	},
	"calm": {
		Name: "calm", Description: "no scheduled faults, background noise only",
		Duration: 12 * time.Second, Rate: 300, Noise: defaultNoise(),
	},
	// A bank that is slow but works must never be held down: it answers
	// every request correctly, in 150ms, well within the 500ms call
	// timeout.
	"slow-bank": {
		Name: "slow-bank", Description: "the bank answers every request correctly, in 150ms",
		Duration: 12 * time.Second, Rate: 300, Noise: withNoise("bank", Noise{Latency: 150 * time.Millisecond}),
	},
	// Issue 22: the primary bank refuses everything, recovers, then
	// hangs, while the second bank stays healthy; the gateway fails over
	// only payments the primary provably never saw.
	"two-banks": {
		Name:        "two-banks",
		Description: "two banks: the primary refuses everything, recovers, then hangs; the second stays healthy",
		Duration:    12 * time.Second, Rate: 300, Banks: 2, Noise: twoBankNoise(),
		Faults: []Fault{
			{Service: "bank", Kind: KindOutage, Start: 2 * time.Second, End: 5 * time.Second},
			{Service: "bank", Kind: KindHang, Start: 7 * time.Second, End: 9500 * time.Millisecond},
		},
	},
	// The log refuses 30% of the entries it is sent, one by one, for the
	// whole run: the outbox must still deliver every entry once, within the
	// drain.
	"flaky-log": {
		Name: "flaky-log", Description: "the log fails 30% of appends for the whole run",
		Duration: 12 * time.Second, Rate: 300,
		Noise: withNoise("log", Noise{AppendErrorBP: 3000, Latency: time.Millisecond, Jitter: 4 * time.Millisecond}),
	},
}

// twoBankNoise is defaultNoise with a second bank as good as the first.
func twoBankNoise() map[string]Noise {
	m := defaultNoise()
	m[secondBank] = m["bank"]
	return m
}

func builtinNames() []string {
	return slices.Sorted(maps.Keys(builtins))
}

func (s Scenario) clone() Scenario {
	s.Faults = slices.Clone(s.Faults)
	s.Noise = maps.Clone(s.Noise)
	return s
}

// scaled returns s stretched or shrunk to last d, every window with it. It
// is meant for a valid s; any other is returned as it is, for validate to
// report.
func (s Scenario) scaled(d time.Duration) Scenario {
	s = s.clone()
	from := s.Duration.Milliseconds()
	if d <= 0 || d == s.Duration || from <= 0 || s.Duration > maxDuration || d > maxDuration {
		return s
	}
	// In milliseconds: with both durations at most maxDuration, the product
	// stays far below the int64 range.
	scale := func(t time.Duration) time.Duration {
		return time.Duration(t.Milliseconds()*d.Milliseconds()/from) * time.Millisecond
	}
	for i := range s.Faults {
		s.Faults[i].Start, s.Faults[i].End = scale(s.Faults[i].Start), scale(s.Faults[i].End)
	}
	s.Duration = d
	return s
}

// payments is how many payments the scenario sends.
func (s Scenario) payments() int64 {
	return int64(s.Rate) * int64(s.Duration) / int64(time.Second)
}

// faults turns the scenario's windows and noise for one service into the
// simulator's faults.
func (s Scenario) faults(service string) sim.Faults {
	n := s.Noise[service]
	f := sim.Faults{ErrorRate: sim.Chance(n.ErrorBP), LostReplyRate: sim.Chance(n.LostReplyBP),
		Latency: sim.Latency{Fixed: n.Latency, Jitter: n.Jitter}}
	for _, w := range s.Faults {
		if w.Service != service {
			continue
		}
		sw := sim.Window{Kind: sim.Outage, Start: w.Start, End: w.End}
		switch w.Kind {
		case KindHang:
			sw.Kind, sw.Extra = sim.Slowdown, hangDelay
		case KindSlowdown:
			sw.Kind, sw.Extra = sim.Slowdown, w.Extra
		}
		f.Windows = append(f.Windows, sw)
	}
	return f
}

// logFaults are the faults the log injects itself, entry by entry.
func (s Scenario) logFaults() sim.LogFaults {
	return sim.LogFaults{ErrorRate: sim.Chance(s.Noise["log"].AppendErrorBP)}
}

// windows returns the fault windows of one service.
func (s Scenario) windows(service string) []Fault {
	var out []Fault
	for _, f := range s.Faults {
		if f.Service == service {
			out = append(out, f)
		}
	}
	return out
}

func (s Scenario) joinServices() string { return strings.Join(s.services(), ", ") }

// describeFault names a window for reports: "bank hang 2s–5s".
func describeFault(f Fault) string {
	return fmt.Sprintf("%s %s %s–%s", f.Service, f.Kind, secs(f.Start), secs(f.End))
}

// services lists the simulated dependencies the scenario runs, in the
// order reports list them.
func (s Scenario) services() []string {
	if s.twoBanks() {
		return []string{"bank", secondBank, "fx", "log"}
	}
	return services
}

// twoBanks reports whether the scenario has a second bank.
func (s Scenario) twoBanks() bool { return s.Banks == maxBanks }
