package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// breakersOf are the gateway's breakers in front of each dependency: the
// bank has one for transfers and one for the status lookups the
// reconciler makes.
var breakersOf = map[string][]string{"bank": {"bank", "bank-status"}, secondBank: {secondBank, secondBank + "-status"},
	"fx": {"fx"}, "log": {"log"}}

// noisyBP is the share of background failures (basis points) above which
// a dependency is not "answering correctly" and the held-down check does
// not apply to it: a breaker may rightly open on a run of such failures.
const noisyBP = 100

// holdGrace is how long after a failing window ends a breaker may still
// refuse calls: a health probe sent just before the end waits out its
// timeout (the call timeout), the next comes after the probe interval, and
// one more second covers a loaded machine. A breaker that refuses a
// working dependency for good, as a probe stricter than its calls makes
// it, fails by far more.
func holdGrace(callTimeout time.Duration) time.Duration {
	return callTimeout + healthInterval + time.Second
}

// maxTrip is the longest a breaker may refuse a working dependency in one
// stretch: one open wait of the gateway's breakers (2s) and a second. On
// a loaded machine a healthy dependency can miss its timeout five times in
// a row, and a breaker that then opens once and closes at its first probe
// is doing its job; one that stays open longer, or a health hold, is not.
const maxTrip = 2*time.Second + time.Second

// heldDown checks issue 12's item 2 on the run's own timeline, outside
// each dependency's failing fault windows (extended by holdGrace), that
// is while it answered every request correctly within its call timeout:
// no health check held its breakers open (nor anybody forced them), and
// no breaker refused it for longer than maxTrip at a time — the transfer
// breaker and the status lookups' alike. A dependency whose background
// noise fails more than 1% of requests, or answers slower than its call
// timeout, is left out.
func heldDown(r *runResult) invariant {
	inv := invariant{name: "never held down: no breaker holds a dependency that answers in time"}
	if !r.protected {
		inv.ok, inv.na, inv.detail = true, true, "no breakers"
		return inv
	}
	inv.ok = true
	var parts []string
	for _, service := range r.scenario.services() {
		if why := unreliable(r.scenario, service, r.timeouts.of(service)); why != "" {
			parts = append(parts, service+" not checked ("+why+")")
			continue
		}
		allowed := merge(failingWindows(r.scenario, service, r.timeouts.of(service)))
		var held, longest time.Duration
		for _, name := range breakersOf[service] {
			for _, sp := range refusing(r.changes, name, r.end) {
				for _, piece := range minus(sp.interval, allowed) {
					if sp.state == "open" {
						longest = max(longest, piece.to-piece.from)
					} else {
						held += piece.to - piece.from
					}
				}
			}
		}
		if held > 0 || longest > maxTrip {
			inv.ok = false
		}
		parts = append(parts, fmt.Sprintf("%s held %s, longest refusal %s", service, round(held), round(longest)))
	}
	inv.detail = strings.Join(parts, "; ") + fmt.Sprintf("; allowed while answering in time: no hold, refusals up to %s", maxTrip)
	return inv
}

// unreliable says why a service's background noise keeps it from
// answering every request correctly and in time, or "".
func unreliable(s Scenario, service string, callTimeout time.Duration) string {
	n := s.Noise[service]
	switch {
	case n.ErrorBP+n.LostReplyBP+n.AppendErrorBP > noisyBP:
		return fmt.Sprintf("%.1f%% of requests fail", float64(n.ErrorBP+n.LostReplyBP+n.AppendErrorBP)/100)
	case n.Latency+n.Jitter >= callTimeout:
		return "slower than its call timeout"
	}
	return ""
}

// interval is a span of a run's time, [from, to).
type interval struct{ from, to time.Duration }

// failingWindows are the spans when a service failed or answered later
// than its call timeout, each extended by holdGrace.
func failingWindows(s Scenario, service string, callTimeout time.Duration) []interval {
	n := s.Noise[service]
	var out []interval
	for _, f := range s.windows(service) {
		if f.Kind == KindSlowdown && f.Extra+n.Latency+n.Jitter < callTimeout {
			continue // slower, still in time
		}
		out = append(out, interval{f.Start, f.End + holdGrace(callTimeout)})
	}
	return out
}

// refusal is a stretch of time a breaker spent in one refusing state.
type refusal struct {
	interval
	state string
}

// refusing returns the spans, up to end, during which the named breaker
// was in a state that refuses calls, from its recorded transitions; it
// starts closed.
func refusing(changes []stateChange, name string, end time.Duration) []refusal {
	var out []refusal
	state, from := "closed", time.Duration(0)
	flush := func(to time.Duration) {
		if refuses(state) && min(to, end) > from {
			out = append(out, refusal{interval{from, min(to, end)}, state})
		}
	}
	for _, c := range changes {
		if c.name != name {
			continue
		}
		flush(c.t)
		state, from = c.to, c.t
	}
	flush(end)
	return out
}

func refuses(state string) bool {
	return state == "open" || state == "held_open" || state == "forced_open"
}

// minus returns the parts of iv outside every interval of merged, which
// must be sorted and disjoint (see merge).
func minus(iv interval, merged []interval) []interval {
	var out []interval
	at := iv.from
	for _, a := range merged {
		if a.to <= at || a.from >= iv.to {
			continue
		}
		if a.from > at {
			out = append(out, interval{at, a.from})
		}
		at = max(at, a.to)
	}
	if at < iv.to {
		out = append(out, interval{at, iv.to})
	}
	return out
}

// merge sorts intervals and joins those that overlap, so that no time is
// counted twice.
func merge(in []interval) []interval {
	s := slices.Clone(in)
	slices.SortFunc(s, func(a, b interval) int { return cmp.Compare(a.from, b.from) })
	var out []interval
	for _, iv := range s {
		if n := len(out); n > 0 && iv.from <= out[n-1].to {
			out[n-1].to = max(out[n-1].to, iv.to)
			continue
		}
		out = append(out, iv)
	}
	return out
}
