package dst

import (
	"fmt"
	"slices"
	"strings"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

// The invariants [Check] judges a world by.
const (
	Ran             = "the world ran"
	NoDoubleDebit   = "no double debit"
	NoLostPayment   = "no lost payment"
	LoggedOnce      = "every succeeded payment logged exactly once after the drain"
	NothingPending  = "nothing pending after the drain, the bank reachable"
	NeverHeldOpen   = "a dependency answering within its call timeout is never held open"
	MemoryBounded   = "queues and backlogs within their stated bounds"
	DefiniteAnswers = "every answer is one of the four states, with its reason"
)

// Invariants lists the invariants in the order Check judges them.
var Invariants = []string{NoDoubleDebit, NoLostPayment, LoggedOnce, NothingPending, NeverHeldOpen,
	MemoryBounded, DefiniteAnswers}

// Violation is an invariant a world broke, with what broke it. It is plain
// data.
type Violation struct {
	Invariant string `json:"invariant"`
	Detail    string `json:"detail"`
}

// String returns "invariant: detail".
func (v Violation) String() string { return v.Invariant + ": " + v.Detail }

// Check judges an outcome against every invariant, from the bank's, the
// log's and the store's own records, and returns the ones it broke (nil
// when it kept them all).
func Check(o *Outcome) []Violation {
	if o.Refused {
		// The generator draws only configurations gateway.New accepts: a
		// refusal means it and the gateway disagree on a rule, which a
		// skipped world would hide.
		return []Violation{{Ran, "gateway.New refused the configuration (a drawn world: the generator breaks a rule of gateway.Config): " + o.Err}}
	}
	if o.Err != "" {
		return []Violation{{Ran, o.Err}}
	}
	v := &verdict{o: o, cfg: o.World.Gateway.settle(), records: map[string]store.Record{},
		debits: map[string]payments.TransferStatus{}, debitedAt: map[string]string{}}
	for _, r := range o.Records {
		v.records[r.Key()] = r
	}
	for _, d := range o.debits() {
		v.debits[d.IdempotencyKey], v.debitedAt[d.IdempotencyKey] = d.TransferStatus, d.bank
	}
	for _, check := range []func(){v.noDoubleDebit, v.noLostPayment, v.loggedOnce, v.nothingPending,
		v.neverHeldOpen, v.memoryBounded, v.definiteAnswers} {
		check()
	}
	return v.broken
}

// verdict is one judgement under way.
type verdict struct {
	o       *Outcome
	cfg     settled
	records map[string]store.Record            // by key
	debits  map[string]payments.TransferStatus // completed transfers at any bank, by key
	// debitedAt names the bank of each key's debit.
	debitedAt map[string]string
	broken    []Violation
}

// debit is a completed transfer in a bank's own records.
type debit struct {
	payments.TransferStatus
	bank string
}

// debits lists the completed transfers of every bank, bank's first.
func (o *Outcome) debits() []debit {
	var out []debit
	for _, b := range []struct {
		name string
		ts   []payments.TransferStatus
	}{{"bank", o.Transfers}, {"bank2", o.Transfers2}} {
		for _, t := range b.ts {
			if t.State == payments.TransferCompleted {
				out = append(out, debit{t, b.name})
			}
		}
	}
	return out
}

// problems collects what breaks one invariant: a count and the first few
// cases, so that a report stays short.
type problems struct {
	n     int
	cases []string
}

func (p *problems) add(format string, args ...any) {
	p.n++
	if len(p.cases) < 5 {
		p.cases = append(p.cases, fmt.Sprintf(format, args...))
	}
}

func (v *verdict) report(invariant string, p *problems) {
	if p.n == 0 {
		return
	}
	more := ""
	if p.n > len(p.cases) {
		more = fmt.Sprintf("; and %d more", p.n-len(p.cases))
	}
	v.broken = append(v.broken, Violation{invariant, fmt.Sprintf("%d: %s%s", p.n, strings.Join(p.cases, "; "), more)})
}

// noDoubleDebit: no key debited twice, no payment debited under two keys
// (each bank's own report), no debit under a key no client sent; in a
// two-bank world, no key and no payment debited at both banks, by both
// banks' own records.
func (v *verdict) noDoubleDebit() {
	var p problems
	perKey := map[string]int{}
	keyAt := map[string]debit{}     // the first debit of each key
	paymentAt := map[string]debit{} // the first debit of each payment ID
	keys := map[string]bool{}
	for _, pay := range v.o.Payments {
		keys[pay.Key] = true
	}
	for _, d := range v.o.debits() {
		k := d.IdempotencyKey
		if first, ok := keyAt[k]; ok && first.bank != d.bank {
			p.add("key %s debited at two banks: %s (%s) and %s (%s)", k, first.bank, first.TransferID, d.bank, d.TransferID)
		} else if perKey[k]++; perKey[k] == 2 {
			p.add("key %s debited twice at %s", k, d.bank)
		}
		if first, ok := paymentAt[d.PaymentID]; ok && first.bank != d.bank && first.IdempotencyKey != k {
			p.add("payment %s debited at two banks, under keys %s (%s) and %s (%s)", d.PaymentID,
				first.IdempotencyKey, first.bank, k, d.bank)
		}
		keyAt[k] = cmpOr(keyAt[k], d)
		paymentAt[d.PaymentID] = cmpOr(paymentAt[d.PaymentID], d)
		if !keys[k] {
			p.add("a debit at %s under key %s, which no client sent (payment %s, %s)", d.bank, k, d.PaymentID, d.TransferID)
		}
	}
	for _, dc := range append(slices.Clone(v.o.DoubleCharges), v.o.DoubleCharges2...) {
		p.add("payment %s debited under keys %v (%v)", dc.PaymentID, dc.Keys, dc.TransferIDs)
	}
	v.report(NoDoubleDebit, &p)
}

// cmpOr returns first unless it is the zero debit, else d.
func cmpOr(first, d debit) debit {
	if first.bank != "" {
		return first
	}
	return d
}

// settledOf is what the bank was to move for a record.
func settledOf(r store.Record) payments.Money {
	if m, _, ok := r.Settlement(); ok {
		return m
	}
	return r.Request.Amount
}
