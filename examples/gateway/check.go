package main

import (
	"fmt"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sim"
)

// invariant is one property the drill checks at the end of a run.
type invariant struct {
	name   string
	ok     bool
	detail string
}

// checkInvariants compares what the payer reported with what the bank and
// the log hold:
//
//   - no double debit: the bank moved money exactly for the succeeded
//     payments, once each;
//   - none lost: every payment ended in a definite state (after the drain)
//     and the gateway's Lookup agrees;
//   - logged exactly once: the log holds exactly the succeeded payments,
//     and the outbox is empty.
func checkInvariants(r *runResult, jobs []job, svcs *simServices) []invariant {
	succeeded := map[string]bool{}
	for i, p := range r.payments {
		if p.final == gateway.Succeeded {
			succeeded[jobs[i].req.IdempotencyKey] = true
		}
	}
	return []invariant{debitsMatch(r, succeeded, svcs.bank), noneLost(r), loggedOnce(r, succeeded, svcs.log)}
}

func debitsMatch(r *runResult, succeeded map[string]bool, bank *sim.Bank) invariant {
	inv := invariant{name: "no double debit: one debit per succeeded payment, none for others"}
	debited := map[string]int{}
	for _, st := range bank.Transfers() {
		if st.State == payments.TransferCompleted {
			debited[st.IdempotencyKey]++
		}
	}
	var twice, unreported, missing int
	for k, n := range debited {
		if n > 1 {
			twice++
		}
		if !succeeded[k] {
			unreported++
		}
	}
	for k := range succeeded {
		if debited[k] == 0 {
			missing++
		}
	}
	inv.ok = twice == 0 && unreported == 0 && missing == 0 && r.bank.DebitsApplied == len(succeeded)
	inv.detail = fmt.Sprintf("bank debits %d, succeeded %d", r.bank.DebitsApplied, len(succeeded))
	if unreported > 0 {
		inv.detail += fmt.Sprintf("; %d debited but not reported succeeded", unreported)
	}
	if twice+missing > 0 {
		inv.detail += fmt.Sprintf("; %d debited twice, %d succeeded without a debit", twice, missing)
	}
	return inv
}

func noneLost(r *runResult) invariant {
	inv := invariant{name: "none lost: every payment in a final state, Lookup agrees"}
	var unanswered, open, disagree int
	for _, p := range r.payments {
		switch {
		case p.first == "":
			unanswered++
		case p.final != gateway.Succeeded && p.final != gateway.Declined && p.final != gateway.Rejected:
			open++
		case !p.lookup:
			disagree++
		}
	}
	inv.ok = unanswered+open+disagree == 0
	inv.detail = fmt.Sprintf("%d payments: %d unanswered, %d without a final state, %d where Lookup disagrees",
		len(r.payments), unanswered, open, disagree)
	return inv
}

func loggedOnce(r *runResult, succeeded map[string]bool, log *sim.Log) invariant {
	inv := invariant{name: "logged exactly once: the log holds every succeeded payment, nothing else"}
	seen := map[string]int{}
	for _, e := range log.Entries() {
		seen[e.PaymentID]++
	}
	var missing, extra, twice int
	for k := range succeeded {
		if seen[k] == 0 {
			missing++
		}
	}
	for k, n := range seen {
		if !succeeded[k] {
			extra++
		}
		if n > 1 {
			twice++
		}
	}
	queued := 0
	if n := len(r.samples); n > 0 {
		queued = r.samples[n-1].outbox
	}
	inv.ok = missing+extra+twice+queued == 0 && r.logStats.Conflicts == 0
	inv.detail = fmt.Sprintf("log entries %d, succeeded %d, missing %d, unexpected %d, outbox left %d",
		len(seen), len(succeeded), missing, extra, queued)
	return inv
}

// passed reports whether every invariant of a run holds.
func (r *runResult) passed() bool {
	for _, inv := range r.invariants {
		if !inv.ok {
			return false
		}
	}
	return true
}
