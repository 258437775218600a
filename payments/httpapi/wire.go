package httpapi

import "github.com/riprap-go/riprap/payments"

// Paths served by the handlers and called by the clients.
const (
	PathTransfers = "/v1/transfers" // POST a transfer; GET PathTransfers/{key} for its status
	PathQuotes    = "/v1/quotes"    // GET ?from=USD&to=EUR
	PathEntries   = "/v1/entries"   // POST a log entry
	PathHealth    = "/healthz"      // GET: 200 when the service is up
)

// Error codes in error bodies: the contract between handlers and clients.
const (
	CodeMalformed   = "malformed_request"
	CodeTooLarge    = "too_large"
	CodeInvalid     = "invalid_request"
	CodeCurrency    = "unknown_currency"
	CodeDeclined    = "declined"
	CodeConflict    = "idempotency_conflict"
	CodeNotFound    = "not_found"
	CodeNoRate      = "no_rate"
	CodeOverloaded  = "overloaded"
	CodeUnavailable = "unavailable"
	CodeInternal    = "internal"
)

// ErrorBody is the JSON body of every non-2xx response the handlers send.
// It is plain data.
type ErrorBody struct {
	Code     string                `json:"code"`
	Message  string                `json:"message"`
	Reason   string                `json:"reason,omitempty"`   // decline reason
	Problems []payments.FieldError `json:"problems,omitempty"` // validation problems
}
