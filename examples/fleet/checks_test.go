package main

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sim"
)

// The checks are plain functions of what a run recorded, so that
// checks_broken_test.go can show each one failing on records that break
// its rule.

// ledgerRecords is what a run leaves behind for the money checks: what
// clients were told, what the drained fleet's ledger says, and the bank's
// own records, which no kill can touch.
type ledgerRecords struct {
	// Answers are the answers clients got, by key.
	Answers map[string][]answer
	// Final is each key's state in the drained fleet's ledger, read
	// through a survivor; the zero answer for a key the ledger lacks.
	Final map[string]answer
	// Transfers and DoubleCharges are the bank's.
	Transfers     []payments.TransferStatus
	DoubleCharges []sim.DoubleCharge
}

// checkLedger returns one line per payment that breaks a promise: a
// payment answered succeeded that the bank did not debit exactly once
// with that transfer, one answered declined that the bank debited, money
// moved for a payment the ledger does not hold as succeeded, a payment
// debited twice, one still pending.
func checkLedger(r ledgerRecords) []string {
	var bad []string
	debits := map[string][]string{}
	for _, tr := range r.Transfers {
		if tr.State == payments.TransferCompleted {
			debits[tr.PaymentID] = append(debits[tr.PaymentID], tr.TransferID)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(debits)) {
		if n := len(debits[key]); n > 1 {
			bad = append(bad, fmt.Sprintf("%s: debited %d times %v", key, n, debits[key]))
		}
		if f := r.Final[key]; f.State != gateway.Succeeded {
			bad = append(bad, fmt.Sprintf("%s: debited by the bank, the ledger says %q", key, f.State))
		}
	}
	for _, dc := range r.DoubleCharges {
		bad = append(bad, fmt.Sprintf("%s: charged under keys %v", dc.PaymentID, dc.Keys))
	}
	for _, key := range slices.Sorted(maps.Keys(r.Answers)) {
		for _, a := range r.Answers[key] {
			switch d := debits[key]; a.State {
			case gateway.Succeeded:
				if len(d) != 1 || d[0] != a.TransferID {
					bad = append(bad, fmt.Sprintf("%s: answered succeeded (%s), the bank debited %v", key, a.TransferID, d))
				}
			case gateway.Declined:
				if len(d) > 0 {
					bad = append(bad, fmt.Sprintf("%s: answered declined, the bank debited %v", key, d))
				}
			}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(r.Final)) {
		switch f := r.Final[key]; f.State {
		case gateway.Pending:
			bad = append(bad, key+": pending after the drain")
		case gateway.Succeeded:
			if d := debits[key]; len(d) == 0 {
				bad = append(bad, key+": succeeded in the ledger, never debited")
			}
		}
	}
	return bad
}

// maxInWindow returns the most arrivals that fall in any window of length
// w (half-open, [t, t+w)).
func maxInWindow(arrivals []time.Time, w time.Duration) int {
	ts := slices.Clone(arrivals)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// rateBound is the most transfers a limit of rate per second and burst
// admits in a window w, measured at the bank: rate×(w+slack)+burst, where
// slack is the time a transfer admitted by the limiter may take to reach
// the bank, so that admissions from a slightly longer window can arrive
// in this one.
func rateBound(rate, burst int, w, slack time.Duration) int {
	return int(int64(rate)*int64(w+slack)/int64(time.Second)) + burst
}

// propagation is how one bank outage reached the fleet: which node
// opened first, and how long after it each other node stopped calling
// (opened by its own rules, or held for the fleet).
type propagation struct {
	Opener string
	// Latency maps each other node to the time from the opener's opening
	// to its own first open or held_open; a node that never stopped
	// calling is missing.
	Latency map[string]time.Duration
	// Held tells the nodes that stopped because the fleet told them.
	Held map[string]bool
}

// propagationOf reads one outage, from dead to revived, off the nodes'
// breaker events.
func propagationOf(events []nodeEvent, nodes []string, dead, revived time.Time) propagation {
	p := propagation{Latency: map[string]time.Duration{}, Held: map[string]bool{}}
	first := map[string]nodeEvent{}
	for _, e := range events {
		if e.when().Before(dead) || e.when().After(revived) || (e.To != "open" && e.To != "held_open") {
			continue
		}
		if _, ok := first[e.Instance]; !ok {
			first[e.Instance] = e
		}
	}
	var opened nodeEvent
	for _, e := range first {
		if e.To == "open" && (opened.At == 0 || e.At < opened.At) {
			opened = e
		}
	}
	if opened.At == 0 {
		return p
	}
	p.Opener = opened.Instance
	for _, n := range nodes {
		if e, ok := first[n]; ok && n != p.Opener {
			p.Latency[n] = e.when().Sub(opened.when())
			p.Held[n] = e.To == "held_open"
		}
	}
	return p
}

// checkPropagation returns one line per outage in which a node was not
// stopped within bound of the first opening, or in which no node opened.
func checkPropagation(outages []propagation, nodes []string, bound time.Duration) []string {
	var bad []string
	for i, p := range outages {
		if p.Opener == "" {
			bad = append(bad, fmt.Sprintf("outage %d: no node opened its breaker", i+1))
			continue
		}
		for _, n := range nodes {
			if n == p.Opener {
				continue
			}
			d, ok := p.Latency[n]
			switch {
			case !ok:
				bad = append(bad, fmt.Sprintf("outage %d: %s opened, %s kept calling", i+1, p.Opener, n))
			case d > bound:
				bad = append(bad, fmt.Sprintf("outage %d: %s stopped %s after %s opened (bound %s)", i+1, n, d, p.Opener, bound))
			}
		}
	}
	return bad
}

// heldLatencies returns the latencies of the nodes held for the fleet,
// sorted: the publish-to-hold figure.
func heldLatencies(outages []propagation) []time.Duration {
	var out []time.Duration
	for _, p := range outages {
		for n, d := range p.Latency {
			if p.Held[n] {
				out = append(out, d)
			}
		}
	}
	slices.Sort(out)
	return out
}

// checkDeadCalls returns why the fleet sent too many calls to a dead
// bank — more than num/den times what one node alone sent — or "".
func checkDeadCalls(fleet, solo, num, den int) string {
	if solo == 0 {
		return "the single node sent no call to the dead bank: the baseline measured nothing"
	}
	if fleet*den > solo*num {
		return fmt.Sprintf("the fleet sent %d calls to the dead bank, one node alone %d: more than %d/%d×", fleet, solo, num, den)
	}
	return ""
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[len(ds)/2]
}
