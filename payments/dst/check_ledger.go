package dst

import (
	"maps"
	"slices"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/store"
)

// noLostPayment holds the gateway's records, its answers and the bank's
// debits to one another:
//
//   - the bank moved money under a key only for a payment the store
//     records succeeded, with that transfer and the settled amount, and
//     every payment recorded succeeded was debited;
//   - an answer never goes back on itself: a payment answered succeeded
//     or declined ends so; one whose last answer was rejected (not
//     attempted) was not debited (one answered pending must end settled:
//     see nothingPending);
//   - a payment that reuses another's key never gets another answer than
//     declined or rejected;
//   - Lookup, after the drain, agrees with the store;
//   - money is only moved: the sum of every balance is unchanged.
func (v *verdict) noLostPayment() {
	var p problems
	for _, t := range v.o.debits() {
		key := t.IdempotencyKey
		rec, ok := v.records[key]
		switch {
		case !ok:
			p.add("%s debited (%s) but unknown to the gateway", key, t.TransferID)
		case rec.Bank != t.bank:
			p.add("%s debited at %s (%s), recorded as handed to %q", key, t.bank, t.TransferID, rec.Bank)
		case rec.Result.State != store.Succeeded:
			p.add("%s debited (%s) but recorded %q", key, t.TransferID, rec.Result.State)
		case rec.Result.TransferID != t.TransferID:
			p.add("%s recorded with transfer %s, the bank moved %s", key, rec.Result.TransferID, t.TransferID)
		case t.Amount != settledOf(rec):
			p.add("%s: the bank moved %s, the payment settles %s", key, t.Amount, settledOf(rec))
		}
	}
	for _, rec := range v.o.Records {
		if _, ok := v.debits[rec.Key()]; rec.Result.State == store.Succeeded && !ok {
			p.add("%s recorded succeeded, never debited", rec.Key())
		}
	}
	v.answersHold(&p)
	for _, f := range v.o.Finals {
		key := v.o.Payments[f.Payment].Key
		rec, ok := v.records[key]
		switch {
		case !ok && f.State != "":
			p.add("Lookup(%s) answers %q for a payment the store does not hold", key, f.State)
		case ok && (f.State != string(rec.Result.State) || f.TransferID != rec.Result.TransferID):
			p.add("Lookup(%s) answers %q %s, the store holds %q %s", key, f.State, f.TransferID, rec.Result.State, rec.Result.TransferID)
		}
	}
	for _, cur := range slices.Sorted(maps.Keys(v.o.BalanceBefore)) {
		if before, after := v.o.BalanceBefore[cur], v.o.BalanceAfter[cur]; after != before {
			p.add("the %s balances summed %d before and %d after: money made or lost", cur, before, after)
		}
	}
	v.report(NoLostPayment, &p)
}

// answersHold checks every client's answers against the final records.
func (v *verdict) answersHold(p *problems) {
	last := map[int]Answer{} // a payment's last answer with a result
	cut := map[int]bool{}    // a later attempt had no answer
	for _, a := range v.o.Answers {
		pay := v.o.Payments[a.Payment]
		rec, ok := v.records[pay.Key]
		owner := ok && rec.Request == pay.Req
		if a.State == "" {
			cut[a.Payment] = true
			continue
		}
		last[a.Payment], cut[a.Payment] = a, false
		final := rec.Result.State
		switch {
		case !owner && a.State != string(gateway.Declined) && a.State != string(gateway.Rejected):
			p.add("payment %d, reusing key %s, answered %q", a.Payment, pay.Key, a.State)
		case !owner:
		case a.State == string(gateway.Succeeded) && (final != store.Succeeded || a.TransferID != rec.Result.TransferID):
			p.add("%s answered succeeded (%s), ends %q %s", pay.Key, a.TransferID, final, rec.Result.TransferID)
		case a.State == string(gateway.Declined) && final != store.Declined:
			p.add("%s answered declined, ends %q", pay.Key, final)
		}
	}
	for _, idx := range slices.Sorted(maps.Keys(last)) {
		a, pay := last[idx], v.o.Payments[idx]
		rec := v.records[pay.Key]
		if _, debited := v.debits[pay.Key]; a.State == string(gateway.Rejected) && !cut[idx] && rec.Request == pay.Req && debited {
			p.add("%s last answered rejected (not attempted), yet debited", pay.Key)
		}
	}
}

// loggedOnce: the log holds exactly the succeeded payments, each once
// with its transfer and amount, nothing was refused or left queued, and
// the drain finished.
func (v *verdict) loggedOnce() {
	var p problems
	logged := map[string]payments.Entry{}
	for _, e := range v.o.Entries {
		logged[e.PaymentID] = e
		rec, ok := v.records[e.PaymentID]
		if !ok || rec.Result.State != store.Succeeded {
			p.add("%s logged, recorded %q", e.PaymentID, rec.Result.State)
		}
	}
	for _, rec := range v.o.Records {
		key := rec.Key()
		if rec.Result.State != store.Succeeded {
			continue
		}
		e, ok := logged[key]
		switch {
		case !ok:
			p.add("%s succeeded, not logged (log state %s)", key, rec.Log)
		case e.TransferID != rec.Result.TransferID || e.Amount != rec.Request.Amount:
			p.add("%s logged with %s %s, succeeded with %s %s", key, e.TransferID, e.Amount, rec.Result.TransferID, rec.Request.Amount)
		}
	}
	if n := v.o.Log.Conflicts; n > 0 {
		p.add("the log refused %d different entries under a logged payment's ID", n)
	}
	if v.o.Store.Outbox > 0 || v.o.Store.Refused > 0 {
		p.add("the outbox holds %d entries queued and %d set aside", v.o.Store.Outbox, v.o.Store.Refused)
	}
	if v.o.DrainErr != "" {
		p.add("the drain gave up: %s", v.o.DrainErr)
	}
	v.report(LoggedOnce, &p)
}

// nothingPending: with every dependency healed, the drain resolves every
// payment: none pending or open in the store or in a Lookup.
func (v *verdict) nothingPending() {
	var p problems
	if v.o.DrainErr != "" {
		p.add("the drain gave up: %s", v.o.DrainErr)
	}
	if s := v.o.Store; s.Pending > 0 || s.Open > 0 {
		p.add("the store holds %d payments pending and %d open", s.Pending, s.Open)
	}
	for _, f := range v.o.Finals {
		if f.State == string(gateway.Pending) {
			p.add("Lookup(%s) answers pending: %s", v.o.Payments[f.Payment].Key, f.Reason)
		}
	}
	v.report(NothingPending, &p)
}
