package gateway

import (
	"errors"
	"slices"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

// State is where a payment ended.
type State string

// The final states of a payment. Pending is final for a call of Pay, but
// the reconciler later moves the payment to Succeeded or Declined.
const (
	// Succeeded: the bank moved the money (exactly once), and the payment's
	// log entry is durable in the store.
	Succeeded State = "succeeded"
	// Declined: a business answer — insufficient funds, an invalid request,
	// an idempotency key reused for a different payment. Nothing moved;
	// the same request will be declined again.
	Declined State = "declined"
	// Rejected: not attempted — the gateway or a policy refused before the
	// bank could act (rate limited, breaker open, FX down with no fresh
	// quote, the store full or failing). Nothing moved; retry after
	// RetryAfter with the same key.
	Rejected State = "rejected"
	// Pending: the bank may or may not have moved the money (a timeout, a
	// lost reply, a store write that failed after the transfer). The
	// reconciler resolves it through the bank's status lookup; retrying
	// with the same key is safe and never moves money twice.
	Pending State = "pending_reconciliation"
)

// Result explains how a payment ended. It is plain data; its JSON form is
// described on [Result.MarshalJSON].
type Result struct {
	PaymentID string // the request's idempotency key
	State     State
	Reason    string // a sentence for people
	// Err is the underlying error, if any (a decline, a rejection, the
	// last failure). A result read back from the store (a replay, a
	// Lookup) carries the error's text only.
	Err error
	// RetryAfter is when a Rejected payment may be tried again (0: now, or
	// unknown).
	RetryAfter time.Duration
	// TransferID is the bank's reference, when Succeeded.
	TransferID string
	// Bank names the acquirer that has the payment, or may have it
	// (Succeeded, Declined by the bank, Pending): "bank" for a gateway
	// built with Config.Bank. It is empty when no bank took the payment
	// (Rejected, or Declined before any bank was asked).
	Bank string
	// RefusedBy lists, in the order tried, the acquirers that refused the
	// payment without attempting it, before Bank took it or, for a
	// Rejected payment, before the gateway gave up. Each refusal is
	// recorded in the store (store.Ledger.MarkRefused) before the next
	// acquirer is offered the payment, so a result read back from the
	// store (a replay, a Lookup) lists them too (store.Record.Refused).
	RefusedBy []string
	// Settled is what the bank was asked to move: the amount, converted to
	// the target currency when there is one. It is the zero Money when the
	// payment was refused before it was priced.
	Settled payments.Money
	// Quote is the rate used for a conversion. QuoteFallback is true when
	// it was the last good quote standing in for an unavailable FX service,
	// QuoteAge how old it was then.
	Quote         *payments.Quote
	QuoteFallback bool
	QuoteAge      time.Duration
	// Replayed is true when Pay answered from the store: the same payment
	// had been submitted before.
	Replayed bool
	// Latency is how long Pay took.
	Latency time.Duration
}

// storedError is an error read back from the store: its text survives, its
// type does not.
type storedError string

func (e storedError) Error() string { return string(e) }

// toStore is what the store keeps of r; the request, the settled amount
// and the quote are in the store's record already.
func (r Result) toStore() store.Result {
	s := store.Result{State: store.State(r.State), Reason: r.Reason, RetryAfter: r.RetryAfter,
		TransferID: r.TransferID, QuoteFallback: r.QuoteFallback, QuoteAge: r.QuoteAge}
	if r.Err != nil {
		s.Error = r.Err.Error()
	}
	return s
}

// resultOf rebuilds the result of a stored payment.
func resultOf(rec store.Record) Result {
	sr := rec.Result
	r := Result{PaymentID: rec.Key(), State: State(sr.State), Reason: sr.Reason, RetryAfter: sr.RetryAfter,
		TransferID: sr.TransferID, Settled: settledOf(rec), Quote: rec.Quote, QuoteFallback: sr.QuoteFallback,
		QuoteAge: sr.QuoteAge}
	if sr.Error != "" {
		r.Err = storedError(sr.Error)
	}
	r.RefusedBy = slices.Clone(rec.Refused) // nil when none
	if r.State != Rejected {
		r.Bank = bankOf(rec)
	}
	if r.State == "" { // claimed, not answered yet: another call is on it
		r.State, r.Err = Pending, errInFlight
		r.Reason = "the same payment is being processed; its outcome is not known yet (see Lookup)"
	}
	return r
}

// bankOf is the bank that may hold rec's payment: the one it was handed
// to, if any. A payment answered Rejected was handed to no bank that saw
// it, whatever its record says.
func bankOf(rec store.Record) string {
	if !rec.Started || rec.Result.State == store.Rejected {
		return ""
	}
	return rec.Bank
}

// settledOf is the amount the bank is (or was) asked to move for rec: the
// saved settlement of a conversion, else the amount itself when no
// conversion is asked for, else nothing yet. A payment without a conversion
// saves no settlement, which spares the store a write.
func settledOf(rec store.Record) payments.Money {
	if m, _, ok := rec.Settlement(); ok {
		return m
	}
	if needsConversion(rec.Request) {
		return payments.Money{}
	}
	return rec.Request.Amount
}

// needsConversion reports whether req is settled in another currency than
// its amount's.
func needsConversion(req payments.PaymentRequest) bool {
	to := req.TargetCurrency
	return to != (payments.Currency{}) && to != req.Amount.Currency()
}

// errInFlight explains a pending answer to a payment submitted again while
// another call (or the reconciler) is processing it.
var errInFlight = errors.New("gateway: the same payment is being processed")
