package store

import (
	"context"
	"time"

	"github.com/riprap-go/riprap/payments"
)

// Store is the gateway's durable memory: the [Ledger] of payments and the
// [Outbox] of log entries, in one store so that one transaction can write
// both. Implementations are safe for concurrent use; the suite in
// payments/store/storetest checks them.
type Store interface {
	Ledger
	Outbox
	// Stats counts what the store holds, for a status page.
	Stats(ctx context.Context) (Stats, error)
	// Close releases the store; later calls fail with [ErrClosed].
	Close() error
}

// Ledger remembers every payment by its idempotency key. Each method is
// one atomic change. Writes by a claimant present the claim's token and
// fail with [ErrClaimLost] when the payment is no longer theirs, and with
// [ErrNotFound] for a key never claimed.
type Ledger interface {
	// Claim looks req's key up and, when the payment is to be worked on,
	// claims it for lease.Owner until lease.Now+lease.TTL:
	//
	//   - a new key, or a payment Rejected earlier (not attempted, so it may
	//     be tried again): Claimed, with a fresh token. The claim reserves a
	//     slot of the outbox; when none is left, the error matches [ErrFull]
	//     and is a rejection carrying a Retry-After (see [Full]).
	//   - a payment whose claimant's claim expired before it was answered
	//     (a crashed process): Claimed, TakenOver.
	//   - the same key for a different request: Conflict.
	//   - a payment another claimant holds: InFlight.
	//   - any other answered payment (succeeded, declined, pending):
	//     Replayed, with the recorded result.
	//
	// An invalid request (see payments.PaymentRequest.Validate) is refused
	// with [ErrInvalid].
	Claim(ctx context.Context, req payments.PaymentRequest, lease Lease) (ClaimResult, error)
	// SaveSettlement records the amount to transfer and the quote used,
	// the first time only: later calls keep the first, so that retries ask
	// the bank for the same transfer.
	SaveSettlement(ctx context.Context, key, token string, settled payments.Money, quote *payments.Quote) error
	// MarkStarted records, before the transfer is handed to bank, that it
	// is about to be: the payment becomes Pending, so that if the process
	// dies now the reconciler will ask the bank. The claim is kept.
	MarkStarted(ctx context.Context, key, token, bank string) error
	// MarkRefused records that bank refused the payment without
	// processing it (its guards rejected it, or its answer proved nothing
	// was processed), so that the ledger tells which banks refused it:
	// Record.Refused, in order, each bank once (a bank already listed
	// changes nothing). Bank, Started and the result are left as they
	// are: the reconciler keeps asking the bank the transfer was last
	// handed to, which is always safe. A gateway calls it before offering
	// the payment to the next bank; Finish records the outcome as usual.
	MarkRefused(ctx context.Context, key, token, bank string) error
	// Finish records the payment's result and ends the claim. With entry
	// (only for a Succeeded result, for the payment's own ID) the entry is
	// queued in the outbox in the same transaction; a payment's entry is
	// queued once, whatever later calls say.
	Finish(ctx context.Context, key, token string, r Result, entry *payments.Entry) error
	// Postpone ends the claim on a Pending payment a check did not
	// resolve, to be checked again at next after waiting wait.
	Postpone(ctx context.Context, key, token string, next time.Time, wait time.Duration) error
	// DuePending claims for lease, and returns oldest check first, up to
	// limit (all when limit <= 0) payments that need the reconciler:
	// Pending ones whose next check is at or before dueBy, and payments
	// whose claimant's claim expired before anything was sent (State "",
	// not Started: to be closed as Rejected). Payments under a live claim
	// are left alone.
	DuePending(ctx context.Context, lease Lease, dueBy time.Time, limit int) ([]Record, error)
	// Expire ends at once every claim and outbox lease held by owner,
	// which must be gone (a restarted process ends those of its previous
	// run), and reports how many payment claims it ended.
	Expire(ctx context.Context, owner string) (int, error)
	// Lookup returns the payment with the given key, or [ErrNotFound].
	Lookup(ctx context.Context, key string) (Record, error)
}

// Outbox holds the log entries of succeeded payments until the
// transaction log has them. Entries are queued only by [Ledger.Finish].
type Outbox interface {
	// Next returns up to limit queued entries (all when limit <= 0),
	// oldest first, leasing them to lease.Owner until lease.Now+lease.TTL:
	// entries leased by another owner are skipped until their lease
	// expires, so instances of a fleet do not send the same entry at once.
	// An owner's own leased entries are returned again.
	Next(ctx context.Context, lease Lease, limit int) ([]payments.Entry, error)
	// Ack removes delivered entries by payment ID. Unknown or already
	// removed IDs are ignored.
	Ack(ctx context.Context, paymentIDs ...string) error
	// Refuse sets a queued entry aside for good, with the reason, for an
	// operator to look at: the log refused it (a different entry stands
	// under its ID). A payment ID not queued is ignored.
	Refuse(ctx context.Context, paymentID, reason string, at time.Time) error
	// Refused lists up to limit entries set aside (all when limit <= 0),
	// oldest first.
	Refused(ctx context.Context, limit int) ([]Refusal, error)
}

// Lease says who takes claims, at what time, and for how long. The time
// is the caller's, so that the store needs no clock of its own and a test
// on a fake clock stays on it.
type Lease struct {
	// Owner names the instance: a process, or a gateway of a fleet. It is
	// what [Ledger.Expire] ends claims by.
	Owner string
	Now   time.Time
	TTL   time.Duration
}

// Expires returns when a claim taken under l ends.
func (l Lease) Expires() time.Time { return l.Now.Add(l.TTL) }

// Claim is who works on a payment, until when. The zero Claim is none.
type Claim struct {
	// Token is unique to the claim; every write of the claimant presents it.
	Token   string    `json:"token,omitempty"`
	Owner   string    `json:"owner,omitempty"`
	Expires time.Time `json:"expires,omitzero"`
}

// Held reports whether c is a claim at all.
func (c Claim) Held() bool { return c.Token != "" }

// Live reports whether c is held and not expired at now.
func (c Claim) Live(now time.Time) bool { return c.Held() && now.Before(c.Expires) }

// ClaimStatus is the answer of [Ledger.Claim].
type ClaimStatus uint8

// The answers of [Ledger.Claim].
const (
	// Claimed: work on the payment, presenting Record.Claim.Token.
	Claimed ClaimStatus = iota + 1
	// Replayed: the payment was answered before; Record.Result is the answer.
	Replayed
	// Conflict: the key stands for a different request.
	Conflict
	// InFlight: another claimant is working on the payment.
	InFlight
)

var claimStatusNames = [...]string{"unknown", "claimed", "replayed", "conflict", "in_flight"}

// String returns "claimed", "replayed", "conflict" or "in_flight".
func (s ClaimStatus) String() string {
	if int(s) < len(claimStatusNames) {
		return claimStatusNames[s]
	}
	return claimStatusNames[0]
}

// ClaimResult is what [Ledger.Claim] found and did. It is plain data.
type ClaimResult struct {
	Status ClaimStatus
	// Record is the payment as stored after the call: for Claimed it holds
	// the claim (and any settlement saved by an earlier attempt).
	Record Record
	// TakenOver is set when the payment was claimed from a claimant whose
	// claim had expired.
	TakenOver bool
}

// Refusal is a log entry set aside by [Outbox.Refuse]. It is plain data.
type Refusal struct {
	Entry  payments.Entry `json:"entry"`
	Reason string         `json:"reason"`
	At     time.Time      `json:"at"`
}

// Stats counts what a store holds. It is plain data.
type Stats struct {
	// Payments counts answered payments by the state of their last result.
	Payments map[State]int `json:"payments"`
	// Open counts payments claimed and not yet answered.
	Open int `json:"open"`
	// Pending counts payments whose outcome the reconciler must learn.
	Pending int `json:"pending"`
	// Claimed counts payments held by a claim, live or expired.
	Claimed int `json:"claimed"`
	// Outbox counts entries queued for the log; Refused, those set aside.
	Outbox  int `json:"outbox"`
	Refused int `json:"refused"`
	// Reserved counts outbox slots promised to open and pending payments;
	// new claims are refused once Outbox+Reserved reaches MaxOutbox.
	Reserved  int `json:"reserved"`
	MaxOutbox int `json:"max_outbox"`
	// Problems lists damage the store found (at open or since) and set
	// aside rather than drop silently, for an operator. Empty when none.
	Problems []string `json:"problems,omitempty"`
}
