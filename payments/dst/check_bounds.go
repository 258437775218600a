package dst

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/riprap-go/riprap/payments/gateway"
)

// breakersOf are the gateway's breakers in front of each dependency.
var breakersOf = map[string][]string{"bank": {"bank", "bank-status"}, "bank2": {"bank2", "bank2-status"},
	"fx": {"fx"}, "log": {"log"}}

// reconcileWorkers is how many payments one reconciliation checks at once
// (the gateway's reconcileWorkers); the loop and a drain may run one each.
const reconcileWorkers = 8

// neverHeldOpen: a breaker refuses calls to a dependency, or opens, only
// because the dependency failed. For each dependency without background
// failures and whose latency stays within its call timeout, the world's
// failing windows (outages, hangs, error windows, flaps, and slowdowns
// past the call timeout) are the only times its breakers may open — up to
// what the calls in flight then and the health probes take to report —
// and refuse calls — up to that, one open wait, the probes that confirm
// the recovery and the half-open probes that close the breaker. Outside
// them, any refusal is a dependency held down while it answered in time.
//
// "In time" for FX is also within the clients' patience: FX is called
// only to price a payment, inside the client's request, so a client that
// gives up first cancels every call, and no call can show the breaker that
// FX works (the bank and the log are also called by the reconciler and
// the replayer, whose calls no client cuts).
func (v *verdict) neverHeldOpen() {
	var p problems
	for _, dep := range v.o.World.deps() {
		f, timeout := v.o.World.faults(dep), v.cfg.callTimeout(dep)
		if c := v.o.World.Client.Timeout.D(); dep == "fx" && c > 0 {
			timeout = min(timeout, c)
		}
		if f.noisy() || f.Latency.D()+f.Jitter.D() >= timeout {
			continue // it fails now and then, or always late: a breaker may rightly open
		}
		failing := f.failing(timeout)
		for _, e := range v.o.Events {
			if !slices.Contains(breakersOf[dep], e.Name) {
				continue
			}
			opening := e.Kind == "state_change" && (e.To == "open" || e.To == "held_open")
			if e.Kind != "rejection" && !opening {
				continue
			}
			grace := v.openGrace(dep)
			if !opening {
				grace += v.refuseGrace(e.Name, timeout)
			}
			if !within(e.At.D(), failing, grace) {
				what := "refused a call"
				if opening {
					what = "went " + e.To
				}
				p.add("breaker %s of gateway %d %s at %s while %s answered within its %s timeout (failing: %s)",
					e.Name, e.Gateway, what, e.At, dep, timeout, spans(failing))
			}
		}
	}
	v.report(NeverHeldOpen, &p)
}

// openGrace is how long after a failing window a call sent in it may still
// fail, or a probe report it: every attempt of a transfer with its
// backoff, or one call; a probe's timeout.
func (v *verdict) openGrace(dep string) time.Duration {
	calls := v.cfg.callTimeout(dep) + time.Second
	if dep == "bank" || dep == "bank2" {
		calls = v.o.World.Gateway.BankMaxWait.D() +
			time.Duration(v.cfg.attempts)*(v.cfg.bankTimeout+defaultBankBackoffMax+v.cfg.maxRetryAfter)
	}
	return calls + v.cfg.probeMax + time.Second
}

// refuseGrace is how long after the last failure a breaker may still
// refuse: one open wait (the longest), the probes that release a health
// hold, and the half-open probes that close it, each waiting for a call
// (a payment, a replay round, a reconciliation) to probe with.
func (v *verdict) refuseGrace(name string, timeout time.Duration) time.Duration {
	release := time.Duration(0)
	if v.cfg.healthOn {
		release = time.Duration(v.cfg.successes) * (v.cfg.unhealthy + v.cfg.probeMax)
	}
	pace := max(v.o.World.Gateway.LogReplayInterval.D(), time.Second, v.cfg.reconcileMax)
	if r := v.o.World.Load.Rate; r > 0 {
		pace = max(pace, time.Second/time.Duration(r))
	}
	closes := v.o.World.Gateway.breaker(name).SuccessesToClose
	return v.cfg.openWait[name] + release + time.Duration(max(closes, 1))*(timeout+pace) + time.Second
}

// breaker returns the configuration of the named breaker.
func (c Config) breaker(name string) Breaker {
	switch name {
	case "bank", "bank2":
		return c.BankBreaker
	case "bank-status", "bank2-status":
		return c.StatusBreaker
	case "fx":
		return c.FXBreaker
	}
	return c.LogBreaker
}

// banks is how many banks the world has.
func (w World) banks() int {
	if w.Bank2 != nil {
		return 2
	}
	return 1
}

// deps names the world's simulated dependencies, in a fixed order.
func (w World) deps() []string {
	if w.Bank2 != nil {
		return []string{"bank", "bank2", "fx", "log"}
	}
	return []string{"bank", "fx", "log"}
}

// faults returns the faults of the named dependency.
func (w World) faults(dep string) Faults {
	switch dep {
	case "bank":
		return w.Bank
	case "bank2":
		if w.Bank2 != nil {
			return *w.Bank2
		}
		return Faults{}
	case "fx":
		return w.FX
	}
	return w.Log
}

// noisy reports whether the dependency fails now and then all through the
// traffic.
func (f Faults) noisy() bool {
	return f.ErrorBP+f.LostReplyBP+f.AppendErrorBP+f.BatchErrorBP > 0
}

type span struct{ from, to time.Duration }

// failing returns the windows in which the dependency fails or answers
// later than timeout. The sim adds up the slowdowns active at one time,
// so a stretch where overlapping slowdowns together push the latency to
// the timeout fails too, though each one alone stays in time.
func (f Faults) failing(timeout time.Duration) []span {
	var out []span
	var cuts []time.Duration
	for _, w := range f.Windows {
		if w.Kind == Slowdown {
			cuts = append(cuts, w.Start.D(), w.End.D())
			continue
		}
		out = append(out, span{w.Start.D(), w.End.D()})
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	base := f.Latency.D() + f.Jitter.D()
	for i := 0; i+1 < len(cuts); i++ {
		from, to := cuts[i], cuts[i+1]
		extra := time.Duration(0)
		for _, w := range f.Windows {
			if w.Kind == Slowdown && w.Start.D() <= from && to <= w.End.D() {
				extra += w.Extra.D()
			}
		}
		if base+extra < timeout {
			continue // slower, still in time
		}
		if n := len(out); n > 0 && out[n-1].to == from {
			out[n-1].to = to // one span for adjoining stretches
			continue
		}
		out = append(out, span{from, to})
	}
	return out
}

func within(at time.Duration, spans []span, grace time.Duration) bool {
	for _, s := range spans {
		if at >= s.from && at <= s.to+grace {
			return true
		}
	}
	return false
}

func spans(ss []span) string {
	if len(ss) == 0 {
		return "never"
	}
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += s.from.String() + "–" + s.to.String()
	}
	return out
}

// memoryBounded: the outbox within MaxOutbox, log batches within
// LogPolicy.MaxInFlight and BatchSize, status lookups within the
// reconciler's workers, goroutines within a base and a share per client
// request in flight.
func (v *verdict) memoryBounded() {
	var p problems
	pk := v.o.Peaks
	if pk.Outbox > v.cfg.maxOutbox {
		p.add("the outbox held %d entries and reservations, over MaxOutbox %d", pk.Outbox, v.cfg.maxOutbox)
	}
	if pk.LogBatches > v.cfg.maxInFlight {
		p.add("%d log batches in flight at once, over MaxInFlight %d", pk.LogBatches, v.cfg.maxInFlight)
	}
	if pk.BatchEntries > v.cfg.batchSize {
		p.add("a log batch of %d entries, over BatchSize %d", pk.BatchEntries, v.cfg.batchSize)
	}
	if pk.StatusLookups > 2*reconcileWorkers {
		p.add("%d bank status lookups in flight at once, over %d", pk.StatusLookups, 2*reconcileWorkers)
	}
	if limit := goroutineBase + goroutinesPerClient*pk.Clients; pk.Goroutines > limit {
		p.add("%d goroutines with %d client requests in flight, over %d", pk.Goroutines, pk.Clients, limit)
	}
	v.report(MemoryBounded, &p)
}

// definiteAnswers: every answer with a result is one of the four states,
// with a reason, under the HTTP status the handler documents and, for a
// rejection with a Retry-After, the header; no answer comes without a
// result but a Lookup's 404.
func (v *verdict) definiteAnswers() {
	var p problems
	judge := func(a Answer, final bool) {
		key := v.o.Payments[a.Payment].Key
		if a.State == "" {
			if a.Status != 0 && (!final || a.Status != http.StatusNotFound) {
				p.add("%s attempt %d: HTTP %d without a result: %s", key, a.Attempt, a.Status, a.Error)
			}
			return
		}
		want := map[string][]int{string(gateway.Succeeded): {http.StatusOK}, string(gateway.Pending): {http.StatusAccepted},
			string(gateway.Rejected): {http.StatusServiceUnavailable},
			string(gateway.Declined): {http.StatusUnprocessableEntity, http.StatusConflict, http.StatusBadRequest}}[a.State]
		if final {
			want = []int{http.StatusOK}
		}
		switch {
		case want == nil:
			p.add("%s attempt %d: state %q", key, a.Attempt, a.State)
		case a.Reason == "":
			p.add("%s attempt %d: %s without a reason", key, a.Attempt, a.State)
		case !slices.Contains(want, a.Status):
			p.add("%s attempt %d: %s under HTTP %d", key, a.Attempt, a.State, a.Status)
		case !final && a.State == string(gateway.Rejected) && a.RetryAfter > 0 &&
			a.RetryAfterHeader != strconv.FormatInt(int64((a.RetryAfter.D()+time.Second-1)/time.Second), 10):
			p.add("%s attempt %d: rejected, retry after %s, header %q", key, a.Attempt, a.RetryAfter, a.RetryAfterHeader)
		}
	}
	for _, a := range v.o.Answers {
		judge(a, false)
	}
	for _, a := range v.o.Finals {
		judge(a, true)
	}
	v.report(DefiniteAnswers, &p)
}
