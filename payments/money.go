package payments

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Errors of money arithmetic and parsing, matched with errors.Is.
var (
	// ErrOverflow: the result does not fit in int64 minor units.
	ErrOverflow = errors.New("payments: amount overflows int64 minor units")
	// ErrCurrencyMismatch: an operation mixed two currencies.
	ErrCurrencyMismatch = errors.New("payments: currency mismatch")
	// ErrMoneySyntax: a string is not a well-formed amount.
	ErrMoneySyntax = errors.New("payments: malformed amount")
)

// Money is an amount in integer minor units (cents for USD, yen for JPY,
// fils for KWD) of one [Currency]. It never uses floating point.
//
// The zero value has no currency; it formats as "0 ???" and is refused by
// validation. Money is a comparable, immutable value, safe for concurrent use.
type Money struct {
	minor    int64
	currency Currency
}

// New returns minor units of currency c: New(1234, USD) is 12.34 USD.
func New(minor int64, c Currency) Money { return Money{minor: minor, currency: c} }

// Minor returns the amount in minor units.
func (m Money) Minor() int64 { return m.minor }

// Currency returns the currency of m.
func (m Money) Currency() Currency { return m.currency }

// Sign returns -1, 0 or +1. (There is deliberately no IsZero method: JSON's
// omitzero would then drop "0.00 USD" and lose its currency.)
func (m Money) Sign() int {
	switch {
	case m.minor < 0:
		return -1
	case m.minor > 0:
		return 1
	}
	return 0
}

// Add returns m+o. It refuses different currencies ([ErrCurrencyMismatch])
// and results beyond int64 ([ErrOverflow]); it never panics.
func (m Money) Add(o Money) (Money, error) {
	if m.currency != o.currency {
		return Money{}, fmt.Errorf("%w: %s + %s", ErrCurrencyMismatch, m.currency, o.currency)
	}
	s := m.minor + o.minor
	// Signed overflow happened iff both operands share a sign the sum lacks.
	if (m.minor >= 0) == (o.minor >= 0) && (s >= 0) != (m.minor >= 0) {
		return Money{}, fmt.Errorf("%w: %s + %s", ErrOverflow, m, o)
	}
	return Money{minor: s, currency: m.currency}, nil
}

// Sub returns m-o, with the errors of [Money.Add].
func (m Money) Sub(o Money) (Money, error) {
	if m.currency != o.currency {
		return Money{}, fmt.Errorf("%w: %s - %s", ErrCurrencyMismatch, m.currency, o.currency)
	}
	d := m.minor - o.minor
	if (m.minor >= 0) != (o.minor >= 0) && (d >= 0) != (m.minor >= 0) {
		return Money{}, fmt.Errorf("%w: %s - %s", ErrOverflow, m, o)
	}
	return Money{minor: d, currency: m.currency}, nil
}

// String formats m as "-12.34 USD": an optional minus, the integer part
// without leading zeros, exactly Exponent() decimals, a space, the code.
// [ParseMoney] reads it back to the same value.
func (m Money) String() string {
	var b strings.Builder
	b.Grow(28)
	mag := uint64(m.minor)
	if m.minor < 0 {
		b.WriteByte('-')
		mag = -mag // two's complement: correct for math.MinInt64 too
	}
	digits := strconv.FormatUint(mag, 10)
	exp := m.currency.Exponent()
	if exp > 0 {
		if len(digits) <= exp {
			digits = strings.Repeat("0", exp-len(digits)+1) + digits
		}
		b.WriteString(digits[:len(digits)-exp])
		b.WriteByte('.')
		b.WriteString(digits[len(digits)-exp:])
	} else {
		b.WriteString(digits)
	}
	b.WriteByte(' ')
	b.WriteString(m.currency.String())
	return b.String()
}

// ParseMoney reads an amount written as "12.34 USD". The rules are strict:
//
//   - an optional leading '-' (no '+'), then decimal digits, with no leading
//     zero unless the integer part is "0";
//   - a '.' followed by 1 to Exponent() digits, or no '.' at all (so "12 USD"
//     and "12.3 USD" are read, "12.345 USD" and "12. USD" are refused, and
//     JPY takes no '.');
//   - exactly one space, then an upper-case ISO 4217 code this package
//     knows;
//   - no exponent, no thousands separators, no other space;
//   - the value must fit in int64 minor units.
//
// Errors match [ErrMoneySyntax], [ErrUnknownCurrency] or [ErrOverflow].
func ParseMoney(s string) (Money, error) {
	num, code, ok := strings.Cut(s, " ")
	if !ok {
		return Money{}, syntaxErr(s, "want \"<amount> <CODE>\"")
	}
	c, err := LookupCurrency(code)
	if err != nil {
		return Money{}, err
	}
	minor, err := parseMinor(num, c.Exponent())
	if err != nil {
		return Money{}, fmt.Errorf("%w in %q", err, clip(s))
	}
	return Money{minor: minor, currency: c}, nil
}

// MustParseMoney is [ParseMoney] for constants in tests and examples; it
// panics on a malformed amount, as regexp.MustCompile does.
func MustParseMoney(s string) Money {
	m, err := ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}

// parseMinor converts "-12.3" with exponent 2 into -1230.
func parseMinor(num string, exp int) (int64, error) {
	neg := strings.HasPrefix(num, "-")
	if neg {
		num = num[1:]
	}
	intPart, frac, hasDot := strings.Cut(num, ".")
	switch {
	case intPart == "":
		return 0, fmt.Errorf("%w: missing integer digits", ErrMoneySyntax)
	case len(intPart) > 1 && intPart[0] == '0':
		return 0, fmt.Errorf("%w: leading zero", ErrMoneySyntax)
	case hasDot && exp == 0:
		return 0, fmt.Errorf("%w: currency has no minor unit", ErrMoneySyntax)
	case hasDot && (frac == "" || len(frac) > exp):
		return 0, fmt.Errorf("%w: want 1 to %d decimals", ErrMoneySyntax, exp)
	}
	frac += strings.Repeat("0", exp-len(frac))
	var mag uint64
	for _, part := range [2]string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			d := part[i] - '0'
			if d > 9 {
				return 0, fmt.Errorf("%w: unexpected %q", ErrMoneySyntax, part[i])
			}
			if mag > (math.MaxUint64-uint64(d))/10 {
				return 0, ErrOverflow
			}
			mag = mag*10 + uint64(d)
		}
	}
	return signed(mag, neg)
}

// signed applies the sign to a magnitude, refusing what int64 cannot hold
// (its negative range is one larger than the positive one).
func signed(mag uint64, neg bool) (int64, error) {
	if neg {
		if mag > 1<<63 {
			return 0, ErrOverflow
		}
		return int64(-mag), nil // -(1<<63) wraps to math.MinInt64, as intended
	}
	if mag > math.MaxInt64 {
		return 0, ErrOverflow
	}
	return int64(mag), nil
}

// MarshalText encodes m in the [Money.String] form; a zero currency is
// refused so that no currency-less amount reaches the wire.
func (m Money) MarshalText() ([]byte, error) {
	if !m.currency.Known() {
		return nil, fmt.Errorf("%w: Money without currency", ErrUnknownCurrency)
	}
	return []byte(m.String()), nil
}

// UnmarshalText decodes with [ParseMoney].
func (m *Money) UnmarshalText(b []byte) error {
	v, err := ParseMoney(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

func syntaxErr(s, why string) error {
	return fmt.Errorf("%w %q: %s", ErrMoneySyntax, clip(s), why)
}

// clip keeps error messages bounded when the input is hostile.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
