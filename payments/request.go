package payments

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// ErrInvalidRequest is matched (errors.Is) by every [*ValidationError].
var ErrInvalidRequest = errors.New("payments: invalid request")

// Limits on the fields of a [PaymentRequest].
const (
	// MaxIdempotencyKeyLen bounds an idempotency key, in bytes.
	MaxIdempotencyKeyLen = 64
	// MaxTextLen bounds each free-text field, in bytes.
	MaxTextLen = 280
)

// AccountID names a bank account. A well-formed one is "acct_" followed by
// 8 to 32 lower-case ASCII letters or digits ("acct_alice0001"): short
// enough to log, with no characters that need escaping in a URL or a log.
// It must not embed a card number ([ContainsCardNumber]): account IDs are
// logged everywhere, and a card number must never reach a log.
// The zero value (empty) is not well-formed.
type AccountID string

// Valid reports whether id is well-formed and embeds no card number.
func (id AccountID) Valid() bool {
	return id.wellFormed() && !ContainsCardNumber(string(id))
}

func (id AccountID) wellFormed() bool {
	rest, ok := strings.CutPrefix(string(id), "acct_")
	if !ok || len(rest) < 8 || len(rest) > 32 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// KeyRule describes a valid idempotency key, for error messages.
const KeyRule = "want 1-64 characters of [A-Za-z0-9-_.:], starting with a letter or digit"

// ValidIdempotencyKey reports whether k is 1 to [MaxIdempotencyKeyLen]
// bytes of ASCII letters, digits, '-', '_', '.' or ':', starting with a
// letter or digit — safe in a URL path segment (never "." or ".."), a
// header and a log line; a UUID fits.
func ValidIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > MaxIdempotencyKeyLen || !isAlnum(k[0]) {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' && c != ':' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// PaymentRequest asks to move Amount from Payer to Payee. When
// TargetCurrency is set and differs from the amount's, the payee is credited
// the converted amount. The IdempotencyKey identifies the payment: a request
// sent again with the same key must not move money twice.
//
// The zero value is invalid; see [PaymentRequest.Validate]. A PaymentRequest
// is plain data: safe to share once no goroutine modifies it.
type PaymentRequest struct {
	IdempotencyKey string    `json:"idempotency_key"`
	Payer          AccountID `json:"payer"`
	Payee          AccountID `json:"payee"`
	Amount         Money     `json:"amount"`
	// TargetCurrency is optional: the zero value means Amount's currency.
	TargetCurrency Currency `json:"target_currency,omitzero"`
	// Description and Reference are free text, shown to people. They must
	// not carry a card number.
	Description string `json:"description,omitempty"`
	Reference   string `json:"reference,omitempty"`
}

// FieldError is one problem with one field of a request. It is plain,
// comparable data.
type FieldError struct {
	Field   string `json:"field"`   // JSON name of the field: "amount", "payer", …
	Problem string `json:"problem"` // what is wrong, in words
}

// Error returns "field: problem".
func (f FieldError) Error() string { return f.Field + ": " + f.Problem }

// ValidationError lists every problem found in a request, in field order.
// It matches [ErrInvalidRequest] with errors.Is. A zero ValidationError has
// no problems; once returned it is not modified, so it may be shared.
type ValidationError struct {
	Problems []FieldError
}

// Error joins the problems: "payments: invalid request: amount: …; payer: …".
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInvalidRequest.Error())
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Is matches [ErrInvalidRequest].
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidRequest }

// Has reports whether field has a problem.
func (e *ValidationError) Has(field string) bool {
	for _, p := range e.Problems {
		if p.Field == field {
			return true
		}
	}
	return false
}

// Validate checks every field and reports all problems at once in a
// [*ValidationError], or returns nil. It checks that the idempotency key is
// present and well-formed ([ValidIdempotencyKey]), that both accounts are
// well-formed ([AccountID.Valid]: no card number inside) and different, that the amount has a known currency and is
// positive, that the target currency, if set, is known, and that the free
// text is valid UTF-8, at most [MaxTextLen] bytes, free of control
// characters and free of anything that looks like a card number
// ([ContainsCardNumber]).
func (r *PaymentRequest) Validate() error {
	var v validator
	switch {
	case r.IdempotencyKey == "":
		v.add("idempotency_key", "required")
	case !ValidIdempotencyKey(r.IdempotencyKey):
		v.add("idempotency_key", KeyRule)
	}
	v.account("payer", r.Payer)
	v.account("payee", r.Payee)
	if r.Payer != "" && r.Payer == r.Payee {
		v.add("payee", "must differ from payer")
	}
	switch {
	case !r.Amount.Currency().Known():
		v.add("amount", "unknown currency")
	case r.Amount.Sign() <= 0:
		v.add("amount", "must be positive")
	}
	if r.TargetCurrency != (Currency{}) && !r.TargetCurrency.Known() {
		v.add("target_currency", "unknown currency")
	}
	v.text("description", r.Description)
	v.text("reference", r.Reference)
	return v.err()
}

type validator struct{ problems []FieldError }

func (v *validator) add(field, problem string) {
	v.problems = append(v.problems, FieldError{Field: field, Problem: problem})
}

func (v *validator) account(field string, id AccountID) {
	switch {
	case id == "":
		v.add(field, "required")
	case !id.wellFormed():
		v.add(field, "want acct_ followed by 8-32 of [a-z0-9]")
	case ContainsCardNumber(string(id)):
		v.add(field, panProblem)
	}
}

func (v *validator) text(field, s string) {
	switch {
	case len(s) > MaxTextLen:
		v.add(field, "longer than 280 bytes")
	case !utf8.ValidString(s):
		v.add(field, "not valid UTF-8")
	case strings.ContainsFunc(s, isControl):
		v.add(field, "contains control characters")
	case ContainsCardNumber(s):
		v.add(field, panProblem)
	}
}

// panProblem is the problem reported for a field that holds a card number.
const panProblem = "looks like it contains a card number"

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}
