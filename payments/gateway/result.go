package gateway

import (
	"time"

	"github.com/riprap-go/riprap/payments"
)

// State is where a payment ended.
type State string

// The final states of a payment. Pending is final for a call of Pay, but
// the reconciler later moves the payment to Succeeded or Declined.
const (
	// Succeeded: the bank moved the money (exactly once).
	Succeeded State = "succeeded"
	// Declined: a business answer — insufficient funds, an invalid request,
	// an idempotency key reused for a different payment. Nothing moved;
	// the same request will be declined again.
	Declined State = "declined"
	// Rejected: not attempted — the gateway or a policy refused before the
	// bank could act (rate limited, breaker open, FX down with no fresh
	// quote). Nothing moved; retry after RetryAfter with the same key.
	Rejected State = "rejected"
	// Pending: the bank may or may not have moved the money (a timeout, a
	// lost reply). The reconciler resolves it through the bank's status
	// lookup; retrying with the same key is safe and never moves money twice.
	Pending State = "pending_reconciliation"
)

// Result explains how a payment ended. It is plain data.
type Result struct {
	PaymentID string `json:"payment_id"` // the request's idempotency key
	State     State  `json:"state"`
	Reason    string `json:"reason"` // a sentence for people
	// Err is the underlying error, if any (a decline, a rejection, the
	// last failure).
	Err error `json:"-"`
	// RetryAfter is when a Rejected payment may be tried again (0: now, or
	// unknown).
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	// TransferID is the bank's reference, when Succeeded.
	TransferID string `json:"transfer_id,omitempty"`
	// Settled is what the bank was asked to move: the amount, converted to
	// the target currency when there is one.
	Settled payments.Money `json:"settled"`
	// Quote is the rate used for a conversion. QuoteFallback is true when
	// it was the last good quote standing in for an unavailable FX service,
	// QuoteAge how old it was then.
	Quote         *payments.Quote `json:"quote,omitempty"`
	QuoteFallback bool            `json:"quote_fallback,omitempty"`
	QuoteAge      time.Duration   `json:"quote_age,omitempty"`
	// Replayed is true when Pay answered from its ledger: the same payment
	// had been submitted before.
	Replayed bool `json:"replayed,omitempty"`
	// Latency is how long Pay took.
	Latency time.Duration `json:"latency"`
}
