package payments

import "errors"

// Errors the services return, matched with errors.Is whichever transport
// carried them (in-process simulator or HTTP client).
var (
	// ErrDeclined: the bank refused the transfer for a business reason
	// (insufficient funds, unknown account). Nothing moved; the same request
	// will be declined again. Carried by [*DeclineError].
	ErrDeclined = errors.New("payments: declined")
	// ErrIdempotencyConflict: an idempotency key (or a payment ID in the
	// log) was reused with different content. It is refused, never treated
	// as a replay, and nothing moved.
	ErrIdempotencyConflict = errors.New("payments: idempotency key reused with different request")
	// ErrNotFound: no transfer is known under the key looked up.
	ErrNotFound = errors.New("payments: not found")
	// ErrNoRate: the exchange service has no rate for the currency pair.
	ErrNoRate = errors.New("payments: no exchange rate")
	// ErrBatchTooLarge: a log batch holds more than [MaxLogBatch] entries.
	ErrBatchTooLarge = errors.New("payments: log batch too large")
)

// Decline reasons carried by [*DeclineError].
const (
	DeclineInsufficientFunds = "insufficient_funds"
	DeclineUnknownAccount    = "unknown_account"
	DeclineCurrency          = "currency_not_supported"
)

// DeclineError is a business refusal by the bank: an answer, not a failure.
// It matches [ErrDeclined] with errors.Is and is [Permanent]: retrying the
// same request gives the same answer. The zero value has an empty reason.
type DeclineError struct {
	Reason string // one of the Decline* constants, or the bank's own code
}

// Error reads "payments: declined: insufficient_funds".
func (e *DeclineError) Error() string { return ErrDeclined.Error() + ": " + e.Reason }

// Is matches [ErrDeclined].
func (e *DeclineError) Is(target error) bool { return target == ErrDeclined }

// Permanent reports true: a decline does not change on retry.
func (e *DeclineError) Permanent() bool { return true }

// IsPermanent reports whether err, or an error it wraps, says that retrying
// the same request cannot succeed: it has a method Permanent() bool that
// returns true (a decline, an HTTP 4xx from the service), or it is one of
// [ErrDeclined], [ErrIdempotencyConflict], [ErrInvalidRequest],
// [ErrNotFound], [ErrNoRate], [ErrUnknownCurrency] or [ErrBatchTooLarge].
// A retry policy stops on such errors.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	if errors.As(err, &p) {
		return p.Permanent()
	}
	for _, s := range []error{ErrDeclined, ErrIdempotencyConflict, ErrInvalidRequest, ErrNotFound, ErrNoRate,
		ErrUnknownCurrency, ErrBatchTooLarge} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
