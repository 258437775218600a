package payments

import (
	"errors"
	"fmt"
)

// ErrUnknownCurrency is matched (errors.Is) by errors about a currency code
// that is not in the ISO 4217 table of this package.
var ErrUnknownCurrency = errors.New("payments: unknown currency")

// Currency is an ISO 4217 currency known to this package. It is a small
// comparable value (an index into a fixed table), cheap to copy and compare.
//
// The zero value is not a currency: [Currency.Known] reports false and
// validation refuses it. A Currency is immutable and safe for concurrent use.
type Currency struct {
	idx uint8 // 1-based index into currencies; 0 means unknown
}

type currencyInfo struct {
	code     string
	exponent int // digits after the decimal point of the minor unit
}

// currencies is the ISO 4217 subset this package knows. Exponents follow the
// ISO table, not market practice (ISK and CLP are 0 in ISO 4217 too).
var currencies = [...]currencyInfo{
	{"", 0},
	{"USD", 2}, {"EUR", 2}, {"GBP", 2}, {"CHF", 2}, {"JPY", 0}, {"KWD", 3},
	{"BHD", 3}, {"OMR", 3}, {"JOD", 3}, {"TND", 3}, {"KRW", 0}, {"CLP", 0},
	{"ISK", 0}, {"CAD", 2}, {"AUD", 2}, {"NZD", 2}, {"SEK", 2}, {"NOK", 2},
	{"DKK", 2}, {"PLN", 2}, {"CZK", 2}, {"CNY", 2}, {"HKD", 2}, {"SGD", 2},
	{"INR", 2}, {"MXN", 2}, {"BRL", 2}, {"ZAR", 2},
}

// The currencies most code names directly. Every other known currency is
// reached through [LookupCurrency].
var (
	USD = mustCurrency("USD")
	EUR = mustCurrency("EUR")
	GBP = mustCurrency("GBP")
	CHF = mustCurrency("CHF")
	JPY = mustCurrency("JPY")
	KWD = mustCurrency("KWD")
)

var currencyIndex = func() map[string]uint8 {
	m := make(map[string]uint8, len(currencies))
	for i := 1; i < len(currencies); i++ {
		m[currencies[i].code] = uint8(i)
	}
	return m
}()

func mustCurrency(code string) Currency {
	for i := 1; i < len(currencies); i++ {
		if currencies[i].code == code {
			return Currency{idx: uint8(i)}
		}
	}
	panic("payments: currency table lacks " + code) // unreachable: the table is a constant
}

// LookupCurrency returns the currency with the given upper-case ISO 4217
// code ("USD"). Lower case and unknown codes are refused with an error
// matching [ErrUnknownCurrency].
func LookupCurrency(code string) (Currency, error) {
	if i, ok := currencyIndex[code]; ok {
		return Currency{idx: i}, nil
	}
	if len(code) > 8 {
		code = code[:8] + "…"
	}
	return Currency{}, fmt.Errorf("%w: %q", ErrUnknownCurrency, code)
}

// Currencies returns every known currency, in a fixed order.
func Currencies() []Currency {
	out := make([]Currency, 0, len(currencies)-1)
	for i := 1; i < len(currencies); i++ {
		out = append(out, Currency{idx: uint8(i)})
	}
	return out
}

// Known reports whether c is a currency of the table (not the zero value).
func (c Currency) Known() bool { return c.idx != 0 && int(c.idx) < len(currencies) }

// Code returns the ISO 4217 code, or "" for the zero value.
func (c Currency) Code() string {
	if !c.Known() {
		return ""
	}
	return currencies[c.idx].code
}

// String returns the code, or "???" for the zero value, so that a forgotten
// currency is visible in logs.
func (c Currency) String() string {
	if !c.Known() {
		return "???"
	}
	return currencies[c.idx].code
}

// Exponent returns the number of digits of the minor unit (2 for USD, 0 for
// JPY, 3 for KWD); 0 for the zero value.
func (c Currency) Exponent() int {
	if !c.Known() {
		return 0
	}
	return currencies[c.idx].exponent
}

// MarshalText encodes c as its code; the zero value is refused, so that an
// unknown currency never reaches the wire.
func (c Currency) MarshalText() ([]byte, error) {
	if !c.Known() {
		return nil, fmt.Errorf("%w: zero Currency", ErrUnknownCurrency)
	}
	return []byte(c.Code()), nil
}

// UnmarshalText decodes a code with [LookupCurrency].
func (c *Currency) UnmarshalText(b []byte) error {
	v, err := LookupCurrency(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
