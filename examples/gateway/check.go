package main

import (
	"fmt"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sim"
)

// invariant is one property the drill checks at the end of a run. A check
// that does not apply to a run (no breakers to hold open without riprap)
// is marked na and counts as kept.
type invariant struct {
	name   string
	ok     bool
	na     bool
	detail string
}

// ledger is what the simulated bank and log hold at the end of a run, the
// drill's ground truth.
type ledger struct {
	transfers     []payments.TransferStatus // every bank's
	doubleCharges []sim.DoubleCharge
	logEntries    []payments.Entry
	banks         []bankDebits // each bank's debits, the primary first
}

func ledgerOf(svcs *simServices) ledger {
	l := ledger{logEntries: svcs.log.Entries()}
	for i, b := range svcs.banks() {
		ts := b.Transfers()
		l.transfers = append(l.transfers, ts...)
		l.doubleCharges = append(l.doubleCharges, b.DoubleCharges()...)
		l.banks = append(l.banks, debitsAt([]string{"bank", secondBank}[i], ts))
	}
	return l
}

// checkInvariants compares what the payer reported with what the bank and
// the log hold:
//
//   - no double debit: no payment was debited twice, under one key or two;
//   - debits match answers: one debit per succeeded payment, none for a
//     declined or rejected one, and none left pending or unknown;
//   - none lost: every payment ended in a definite state (after the drain)
//     and the gateway's Lookup agrees;
//   - logged exactly once within the drain: the log holds exactly the
//     succeeded payments, the outbox is empty and the drain finished;
//   - nothing pending after the drain;
//   - never held down: no breaker refused calls to a dependency while it
//     answered within its call timeout (see heldDown);
//   - with two banks, no payment debited at both (see noDebitAtTwoBanks).
func checkInvariants(r *runResult, jobs []job, l ledger) []invariant {
	byKey := map[string]gateway.State{}
	for i, p := range r.payments {
		if p.first != "" {
			byKey[jobs[i].req.IdempotencyKey] = p.final
		}
	}
	invs := []invariant{noDoubleDebit(r, l), debitsMatch(byKey, l), noneLost(r), loggedOnce(r, byKey, l),
		nothingPending(r), heldDown(r)}
	if r.scenario.twoBanks() {
		invs = append(invs, noDebitAtTwoBanks(r, l.banks))
	}
	return invs
}

// noDoubleDebit fails only on money moved twice for one payment: a key
// debited twice, or one payment (TransferRequest.PaymentID) debited under
// two keys, which the bank reports. A payment debited once and then left
// pending or unknown is not a double debit; debitsMatch reports it.
func noDoubleDebit(r *runResult, l ledger) invariant {
	inv := invariant{name: "no double debit: no payment debited twice, under one key or two"}
	debited := map[string]int{}
	for _, st := range l.transfers {
		if st.State == payments.TransferCompleted {
			debited[st.IdempotencyKey]++
		}
	}
	twice := 0
	for _, n := range debited {
		if n > 1 {
			twice++
		}
	}
	inv.ok = twice == 0 && len(l.doubleCharges) == 0
	inv.detail = fmt.Sprintf("bank debits %d; %d keys debited twice, %d payments debited under two keys",
		r.bank.DebitsApplied, twice, len(l.doubleCharges))
	return inv
}

// debitsMatch checks that the answers tell the truth about the money.
func debitsMatch(byKey map[string]gateway.State, l ledger) invariant {
	inv := invariant{name: "debits match answers: one per succeeded payment, none for declined or rejected"}
	debited := map[string]bool{}
	var pendingDebited, wrong, missing, succeeded int
	for _, st := range l.transfers {
		if st.State != payments.TransferCompleted {
			continue
		}
		debited[st.IdempotencyKey] = true
		switch byKey[st.IdempotencyKey] {
		case gateway.Succeeded:
		case gateway.Pending, Unknown:
			pendingDebited++
		default:
			wrong++
		}
	}
	for k, s := range byKey {
		if s == gateway.Succeeded {
			succeeded++
			if !debited[k] {
				missing++
			}
		}
	}
	inv.ok = pendingDebited+wrong+missing == 0
	inv.detail = fmt.Sprintf("succeeded %d; %d debited but left pending or unknown, %d debited but answered declined or rejected, %d succeeded without a debit",
		succeeded, pendingDebited, wrong, missing)
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

func loggedOnce(r *runResult, byKey map[string]gateway.State, l ledger) invariant {
	inv := invariant{name: "logged exactly once within the drain: the log holds every succeeded payment, nothing else"}
	seen := map[string]int{}
	for _, e := range l.logEntries {
		seen[e.PaymentID]++
	}
	var missing, extra, twice, succeeded int
	for k, s := range byKey {
		if s == gateway.Succeeded {
			succeeded++
			if seen[k] == 0 {
				missing++
			}
		}
	}
	for k, n := range seen {
		if byKey[k] != gateway.Succeeded {
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
	inv.ok = missing+extra+twice+queued == 0 && r.logStats.Conflicts == 0 && r.drainErr == nil
	inv.detail = fmt.Sprintf("log entries %d, succeeded %d, missing %d, unexpected %d, outbox left %d",
		len(seen), succeeded, missing, extra, queued)
	if r.protected {
		inv.detail += fmt.Sprintf(", drain %s", round(r.drain))
	}
	if r.drainErr != nil {
		inv.detail += fmt.Sprintf(" (%v)", r.drainErr)
	}
	return inv
}

// nothingPending: once the bank is reachable again and the drain is over,
// every payment's outcome is known. Without riprap nobody ever learns what
// became of a payment whose reply was lost.
func nothingPending(r *runResult) invariant {
	inv := invariant{name: "nothing pending after the drain: every outcome learnt from the bank"}
	var pending, unknown int
	for _, p := range r.payments {
		switch p.final {
		case gateway.Pending:
			pending++
		case Unknown:
			unknown++
		}
	}
	left := 0
	if n := len(r.samples); n > 0 {
		left = r.samples[n-1].pending
	}
	inv.ok = pending+unknown+left == 0
	inv.detail = fmt.Sprintf("%d pending, %d unknown, %d pending in the store", pending, unknown, left)
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
