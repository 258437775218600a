package payments

import (
	"context"
	"time"
)

// Bank moves money between accounts. Implementations: the HTTP client in
// payments/httpapi and the simulator in payments/sim. All are safe for
// concurrent use.
type Bank interface {
	// Transfer debits req.From and credits req.To exactly once per
	// idempotency key: a repeat with the same key and the same content
	// returns the first result (Receipt.Replayed is true) and moves nothing;
	// a repeat with different content fails with [ErrIdempotencyConflict].
	// A business refusal is a [*DeclineError].
	Transfer(ctx context.Context, req TransferRequest) (Receipt, error)
	// Status looks a transfer up by its idempotency key; [ErrNotFound]
	// when the bank never committed one under that key.
	Status(ctx context.Context, key string) (TransferStatus, error)
}

// FX quotes exchange rates. Implementations are safe for concurrent use.
type FX interface {
	// Quote returns the rate from one currency to another, or an error
	// matching [ErrNoRate].
	Quote(ctx context.Context, from, to Currency) (Quote, error)
}

// Log records settled payments. Implementations are safe for concurrent use.
type Log interface {
	// Append stores e once per e.PaymentID: appending the same entry again
	// succeeds and stores nothing; a different entry under the same ID fails
	// with [ErrIdempotencyConflict].
	Append(ctx context.Context, e Entry) error
	// AppendBatch appends each entry as Append would, in order, and
	// returns one result per entry: results[i] is nil when entries[i] is
	// stored (now or before) and the entry's own error otherwise (a
	// conflict, an invalid entry, a fault that hit that entry alone), so one
	// bad entry never holds up the others. A non-nil err means the batch as
	// a whole failed (the log unreachable, a timeout) and nothing is known
	// about any entry; appends being idempotent, the whole batch may be sent
	// again. A batch holds at most [MaxLogBatch] entries; a longer one fails
	// whole with an error matching [ErrBatchTooLarge].
	AppendBatch(ctx context.Context, entries []Entry) (results []error, err error)
}

// MaxLogBatch bounds the entries of one [Log.AppendBatch].
const MaxLogBatch = 500

// TransferRequest asks the bank to move Amount from From to To. It is plain
// data; its zero value is invalid (see [TransferRequest.Validate]).
type TransferRequest struct {
	IdempotencyKey string    `json:"idempotency_key"`
	From           AccountID `json:"from"`
	To             AccountID `json:"to"`
	Amount         Money     `json:"amount"`
	// PaymentID optionally names the payment this transfer settles (the
	// gateway sets the payment's idempotency key). The bank does not
	// deduplicate by it — the idempotency key does — but it records it, so
	// that one payment charged under two different keys can be found. It
	// is part of the request's content: the same key with another
	// PaymentID is a different request.
	PaymentID string `json:"payment_id,omitempty"`
}

// Validate reports every problem of req in a [*ValidationError]: the key,
// both accounts, a positive amount in a known currency, and a PaymentID
// that is empty or a well-formed key ([ValidIdempotencyKey]).
func (req TransferRequest) Validate() error {
	p := PaymentRequest{IdempotencyKey: req.IdempotencyKey, Payer: req.From, Payee: req.To, Amount: req.Amount}
	err := p.Validate()
	ve, _ := err.(*ValidationError)
	if ve != nil {
		for i := range ve.Problems { // report the transfer's own field names
			switch ve.Problems[i].Field {
			case "payer":
				ve.Problems[i].Field = "from"
			case "payee":
				ve.Problems[i].Field = "to"
			}
		}
	}
	if req.PaymentID != "" && !ValidIdempotencyKey(req.PaymentID) {
		if ve == nil {
			ve = &ValidationError{}
		}
		ve.Problems = append(ve.Problems, FieldError{Field: "payment_id", Problem: KeyRule})
	}
	if ve == nil {
		return nil
	}
	return ve
}

// TransferState is where a transfer stands at the bank. The zero value
// (empty) is no state.
type TransferState string

// The transfer states. A transfer is committed (Completed) or refused
// (Declined) atomically; there is no in-between state visible to clients.
const (
	TransferCompleted TransferState = "completed"
	TransferDeclined  TransferState = "declined"
)

// Receipt is the bank's answer to a committed transfer. It is plain data,
// safe to share once no goroutine modifies it.
type Receipt struct {
	TransferID     string    `json:"transfer_id"`
	IdempotencyKey string    `json:"idempotency_key"`
	Amount         Money     `json:"amount"`
	CommittedAt    time.Time `json:"committed_at"`
	// Replayed is true when the bank answered from its idempotency table:
	// the transfer had already been committed by an earlier attempt.
	Replayed bool `json:"replayed"`
}

// TransferStatus is what [Bank.Status] knows about a key. It is plain data,
// safe to share once no goroutine modifies it.
type TransferStatus struct {
	IdempotencyKey string        `json:"idempotency_key"`
	PaymentID      string        `json:"payment_id,omitempty"` // the request's PaymentID, if it had one
	State          TransferState `json:"state"`
	TransferID     string        `json:"transfer_id,omitempty"`    // when completed
	DeclineReason  string        `json:"decline_reason,omitempty"` // when declined
	Amount         Money         `json:"amount"`
	At             time.Time     `json:"at"`
}

// Quote is a rate valid as of a time: 1 From = Rate To. The zero value has
// no currencies and an invalid rate. It is plain, comparable data.
type Quote struct {
	From Currency  `json:"from"`
	To   Currency  `json:"to"`
	Rate Rate      `json:"rate"`
	AsOf time.Time `json:"as_of"`
}

// Entry is one settled payment in the transaction log, identified by
// PaymentID (the payment's idempotency key). The zero value is invalid
// (see [Entry.Validate]); an Entry is plain data, safe to share once no
// goroutine modifies it.
type Entry struct {
	PaymentID  string    `json:"payment_id"`
	TransferID string    `json:"transfer_id"`
	Payer      AccountID `json:"payer"`
	Payee      AccountID `json:"payee"`
	Amount     Money     `json:"amount"`
	// Credited is what the payee received when a conversion happened; the
	// zero value when none did.
	Credited Money     `json:"credited,omitzero"`
	At       time.Time `json:"at"`
}

// Equal reports whether e and o record the same payment (times compared
// with time.Time.Equal, so a round trip through JSON compares equal).
func (e Entry) Equal(o Entry) bool {
	return e.PaymentID == o.PaymentID && e.TransferID == o.TransferID && e.Payer == o.Payer &&
		e.Payee == o.Payee && e.Amount == o.Amount && e.Credited == o.Credited && e.At.Equal(o.At)
}

// Validate checks that e has a payment ID (an idempotency key) and an amount
// in a known currency.
func (e Entry) Validate() error {
	var v validator
	if !ValidIdempotencyKey(e.PaymentID) {
		v.add("payment_id", KeyRule)
	}
	if !e.Amount.Currency().Known() {
		v.add("amount", "unknown currency")
	}
	return v.err()
}
