package store

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/riprap-go/riprap/payments"
)

// State is where a payment stands, as the gateway reported it. The zero
// value (empty) is a payment claimed and not answered yet.
type State string

// The states of the gateway, as stored.
const (
	// Succeeded: the bank moved the money.
	Succeeded State = "succeeded"
	// Declined: a business answer; nothing moved.
	Declined State = "declined"
	// Rejected: not attempted; the payment may be tried again.
	Rejected State = "rejected"
	// Pending: the bank may have moved the money; the reconciler will
	// find out.
	Pending State = "pending_reconciliation"
)

// Valid reports whether s is empty or one of the four states.
func (s State) Valid() bool {
	switch s {
	case "", Succeeded, Declined, Rejected, Pending:
		return true
	}
	return false
}

// Reserves reports whether a payment in state s may still need an outbox
// slot: it is open (not answered) or pending.
func (s State) Reserves() bool { return s == "" || s == Pending }

// Result is a payment's outcome as the gateway reported it, less what the
// [Record] holds already (request, settled amount, quote). It is plain,
// comparable data.
type Result struct {
	State  State  `json:"state"`
	Reason string `json:"reason"`
	// Error is the text of the underlying error, if any.
	Error         string        `json:"error,omitempty"`
	RetryAfter    time.Duration `json:"retry_after,omitempty"`
	TransferID    string        `json:"transfer_id,omitempty"`
	QuoteFallback bool          `json:"quote_fallback,omitempty"`
	QuoteAge      time.Duration `json:"quote_age,omitempty"`
}

// LogState is how far a payment's log entry has gone.
type LogState uint8

// The log states of a payment.
const (
	// NotLogged: no entry queued (yet).
	NotLogged LogState = iota
	// Queued: the entry waits in the outbox.
	Queued
	// Delivered: the log acknowledged the entry.
	Delivered
	// SetAside: the log refused the entry for good; see [Outbox.Refuse].
	SetAside
)

var logStateNames = [...]string{"not_logged", "queued", "delivered", "set_aside"}

// String returns "not_logged", "queued", "delivered" or "set_aside".
func (s LogState) String() string {
	if int(s) < len(logStateNames) {
		return logStateNames[s]
	}
	return "unknown"
}

// Record is the ledger's memory of one payment. It is plain data; a
// Record returned by a store is the caller's copy (see [Record.Copy]).
type Record struct {
	Request payments.PaymentRequest `json:"request"`
	// Settled is the amount the bank is asked to move: zero (no currency)
	// until SaveSettlement, and then left out of JSON (Money refuses to
	// marshal without a currency).
	Settled payments.Money  `json:"settled,omitzero"`
	Quote   *payments.Quote `json:"quote,omitempty"`
	// Bank names the bank the transfer was last handed to; empty before
	// MarkStarted. (A gateway with several banks asks this one.)
	Bank string `json:"bank,omitempty"`
	// Refused names the banks that refused the payment without
	// processing it (MarkRefused), in order, each once; nil when none.
	Refused []string `json:"refused,omitempty"`
	// Started is set by MarkStarted: the bank may have seen the transfer.
	Started bool   `json:"started"`
	Result  Result `json:"result"`
	Claim   Claim  `json:"claim"`
	// Reconciliation: checks so far, the latest wait, the next check.
	Checks    int           `json:"checks"`
	LastWait  time.Duration `json:"last_wait"`
	NextCheck time.Time     `json:"next_check,omitzero"`
	Log       LogState      `json:"log"`
}

// Key returns the payment's idempotency key, its ID.
func (r Record) Key() string { return r.Request.IdempotencyKey }

// Settlement returns the settled amount and quote, and whether one was
// saved.
func (r Record) Settlement() (payments.Money, *payments.Quote, bool) {
	return r.Settled, r.Quote, r.Settled.Currency().Known()
}

// NewToken returns a random claim token, for implementations.
func NewToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails, by crypto/rand's contract
	return hex.EncodeToString(b[:])
}

// CheckFinish checks a Finish's arguments, for implementations: a state
// that is known and not empty, and an entry only for a success, for the
// payment itself, valid.
func CheckFinish(key string, r Result, entry *payments.Entry) error {
	switch {
	case r.State == "" || !r.State.Valid():
		return invalid("result state %q", r.State)
	case entry == nil:
		return nil
	case r.State != Succeeded:
		return invalid("a log entry for a payment in state %q", r.State)
	case entry.PaymentID != key:
		return invalid("a log entry for payment %q finishing payment %q", entry.PaymentID, key)
	}
	if err := entry.Validate(); err != nil {
		return invalid("log entry: %v", err)
	}
	return nil
}
