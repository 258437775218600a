package main

import (
	"fmt"
	"io"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/resilience/backoff"
)

// withSecondBank turns the drill's single-bank gateway configuration into
// two acquirers in priority order: the primary ("bank") with the drill's
// bank policy, then secondBank with the same policy and a retry budget of
// its own. A payment goes to the second bank only when the primary
// provably never processed it (see the gateway package doc).
func withSecondBank(gc gateway.Config, bank2 payments.Bank) (gateway.Config, error) {
	budget, err := newDrillBudget()
	if err != nil {
		return gc, err
	}
	second := gc.BankPolicy
	second.Budget = budget
	gc.Acquirers = []gateway.Acquirer{
		{Name: "bank", Bank: gc.Bank, Policy: gc.BankPolicy},
		{Name: secondBank, Bank: bank2, Policy: second},
	}
	gc.Bank, gc.BankPolicy = nil, gateway.BankPolicy{}
	return gc, nil
}

// budgetsOf names the retry budgets of a gateway configuration by bank.
func budgetsOf(gc gateway.Config) map[string]*backoff.Budget {
	if len(gc.Acquirers) == 0 {
		return map[string]*backoff.Budget{"bank": gc.BankPolicy.Budget}
	}
	out := map[string]*backoff.Budget{}
	for _, a := range gc.Acquirers {
		out[a.Name] = a.Policy.Budget
	}
	return out
}

// bankDebits is what one simulated bank holds at the end of a run: the
// payments it debited, by idempotency key.
type bankDebits struct {
	name  string
	debit map[string]bool
}

// debitsAt reads the completed transfers a bank's own records hold.
func debitsAt(name string, transfers []payments.TransferStatus) bankDebits {
	d := bankDebits{name: name, debit: map[string]bool{}}
	for _, t := range transfers {
		if t.State == payments.TransferCompleted {
			d.debit[paymentKey(t)] = true
		}
	}
	return d
}

// paymentKey names the payment a transfer belongs to: its PaymentID when
// the request carried one, else its idempotency key.
func paymentKey(t payments.TransferStatus) string {
	if t.PaymentID != "" {
		return t.PaymentID
	}
	return t.IdempotencyKey
}

// noDebitAtTwoBanks fails when one payment was debited at both banks,
// reading each bank's own records: money moved twice by failing over a
// payment whose outcome at the first bank was unknown. It does not apply
// to a run that used one bank.
func noDebitAtTwoBanks(r *runResult, banks []bankDebits) invariant {
	inv := invariant{name: "no payment debited at two banks: by each bank's own records"}
	if len(banks) < 2 || !r.protected || r.oneBank {
		inv.na, inv.ok = true, true
		inv.detail = "one bank"
		return inv
	}
	twice := 0
	for key := range banks[0].debit {
		if banks[1].debit[key] {
			twice++
		}
	}
	inv.ok = twice == 0
	inv.detail = fmt.Sprintf("%s debited %d payments, %s %d; %d payments debited at both",
		banks[0].name, len(banks[0].debit), banks[1].name, len(banks[1].debit), twice)
	return inv
}

// failover is what a two-bank run did with its second bank. A payment
// reaches it in two ways: routed there first, while the primary is
// unavailable (its breaker open or its health check down), or taken over
// after the primary refused it without attempting it. Either way the
// primary never saw it.
type failover struct {
	primaryRouted  int64 // payments routed to the primary first
	primaryRefused int64 // of those, refused by it without an attempt
	routedAway     int64 // payments routed to the second bank first
	tookOver       int64 // payments the second bank took after the primary refused them
}

// total is how many payments went to the second bank instead of the
// primary.
func (f failover) total() int64 { return f.routedAway + f.tookOver }

func failoverOf(acqs []gateway.AcquirerStatus) failover {
	var f failover
	for i, a := range acqs {
		if i == 0 {
			f.primaryRouted, f.primaryRefused = a.Counts.Routed, a.Counts.Refused
			continue
		}
		f.routedAway += a.Counts.Routed
		f.tookOver += a.Counts.TookOver
	}
	return f
}

// writeFailover prints how the two-bank run compares with the primary
// alone: payments failed over, and the success rate of each.
func writeFailover(w io.Writer, rep *report) {
	two, ok1 := rep.protected()
	one, ok2 := rep.oneBankRun()
	if !ok1 || !ok2 {
		return
	}
	fmt.Fprintf(w, "\nfailover, two banks against the primary alone (both with riprap):\n")
	f := two.failover
	fmt.Fprintf(w, "  payments failed over to %s: %d — %d routed there while the primary was unavailable, %d taken over after the primary refused them unattempted (of %d tried there first)\n",
		secondBank, f.total(), f.routedAway, f.tookOver, f.primaryRouted)
	fmt.Fprintf(w, "  succeeded: two banks %s, primary alone %s\n",
		count(two.final[gateway.Succeeded], two.payments), count(one.final[gateway.Succeeded], one.payments))
	for _, inv := range two.invariants {
		if inv.name == noDebitAtTwoBanksName {
			fmt.Fprintf(w, "  %s  %s (%s)\n", checkText(inv), inv.name, inv.detail)
		}
	}
}

// noDebitAtTwoBanksName is the name noDebitAtTwoBanks gives its check.
var noDebitAtTwoBanksName = noDebitAtTwoBanks(&runResult{}, nil).name
