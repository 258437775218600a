package httpapi

import "github.com/riprap-go/riprap/payments"

// Paths served by the handlers and called by the clients.
const (
	PathTransfers    = "/v1/transfers"     // POST a transfer; GET PathTransfers/{key} for its status
	PathQuotes       = "/v1/quotes"        // GET ?from=USD&to=EUR
	PathEntries      = "/v1/entries"       // POST a log entry
	PathEntriesBatch = "/v1/entries:batch" // POST a BatchRequest of up to payments.MaxLogBatch entries
	PathHealth       = "/healthz"          // GET: 200 when the service is up
)

// Error codes in error bodies: the contract between handlers and clients.
const (
	CodeMalformed     = "malformed_request"
	CodeTooLarge      = "too_large"
	CodeBatchTooLarge = "batch_too_large" // more than payments.MaxLogBatch entries
	CodeInvalid       = "invalid_request"
	CodeCurrency      = "unknown_currency"
	CodeDeclined      = "declined"
	CodeConflict      = "idempotency_conflict"
	CodeNotFound      = "not_found"
	CodeNoRate        = "no_rate"
	CodeOverloaded    = "overloaded"
	CodeUnavailable   = "unavailable"
	CodeInternal      = "internal"
)

// ErrorBody is the JSON body of every non-2xx response the handlers send.
// It is plain data.
type ErrorBody struct {
	Code     string                `json:"code"`
	Message  string                `json:"message"`
	Reason   string                `json:"reason,omitempty"`   // decline reason
	Problems []payments.FieldError `json:"problems,omitempty"` // validation problems
}

// serviceCodes are the codes of the 4xx answers the handlers give: a 4xx
// with another code (or none) did not come from this API.
var serviceCodes = map[string]bool{CodeMalformed: true, CodeTooLarge: true, CodeBatchTooLarge: true,
	CodeInvalid: true, CodeCurrency: true, CodeDeclined: true, CodeConflict: true, CodeNotFound: true,
	CodeNoRate: true}

// BatchRequest is the body of POST [PathEntriesBatch]. It is plain data.
type BatchRequest struct {
	Entries []payments.Entry `json:"entries"`
}

// BatchResponse is the 200 answer to POST [PathEntriesBatch]: one result
// per entry of the request, in its order. It is plain data.
type BatchResponse struct {
	Results []BatchResult `json:"results"`
}

// BatchResult is what POST [PathEntries] would have answered for one entry
// alone: Status 204 when it is stored (now or before), else the error
// status with its error body. It is plain data.
type BatchResult struct {
	Status int        `json:"status"`
	Error  *ErrorBody `json:"error,omitempty"`
	// RetryAfter is the Retry-After, in seconds, that a 429 or 503 for this
	// entry alone would have carried; 0 when none.
	RetryAfter int64 `json:"retry_after,omitempty"`
}
