package payments

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// ErrRateSyntax is matched by errors about a malformed or non-positive rate.
var ErrRateSyntax = errors.New("payments: malformed rate")

// Rate is an exact, positive exchange rate: how many major units of the
// target currency one major unit of the source buys (1 USD = 0.9215 EUR is
// the rate 0.9215, whatever the currencies' exponents).
//
// It is a rational num/den of two positive int64, kept in lowest terms, so
// a decimal quote ("0.9215" = 1843/2000) and a ratio ("1/3") are both exact.
// The zero value is not a rate: [Rate.Valid] is false and [Money.Convert]
// refuses it. Rate is a comparable, immutable value, safe for concurrent use.
type Rate struct {
	num, den int64
}

// NewRate returns num/den in lowest terms; both must be positive.
func NewRate(num, den int64) (Rate, error) {
	if num <= 0 || den <= 0 {
		return Rate{}, fmt.Errorf("%w: %d/%d: numerator and denominator must be positive", ErrRateSyntax, num, den)
	}
	g := gcd(num, den)
	return Rate{num: num / g, den: den / g}, nil
}

// ParseRate reads a positive rate written as a decimal ("1.0850", "150",
// at most 18 significant digits and 18 decimals, no sign, no exponent) or as
// a ratio of two positive integers ("1/3").
func ParseRate(s string) (Rate, error) {
	if n, d, ok := strings.Cut(s, "/"); ok {
		num, err1 := parsePositiveInt(n)
		den, err2 := parsePositiveInt(d)
		if err1 != nil || err2 != nil {
			return Rate{}, fmt.Errorf("%w %q: want num/den of positive integers", ErrRateSyntax, clip(s))
		}
		return NewRate(num, den)
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") || len(frac) > 18 {
		return Rate{}, fmt.Errorf("%w %q: want a decimal like 1.0850", ErrRateSyntax, clip(s))
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	if len(digits) > 18 {
		return Rate{}, fmt.Errorf("%w %q: more than 18 significant digits", ErrRateSyntax, clip(s))
	}
	mant, err := parsePositiveInt(digits)
	if err != nil || !allDigits(intPart) {
		return Rate{}, fmt.Errorf("%w %q: want a positive decimal", ErrRateSyntax, clip(s))
	}
	return NewRate(mant, pow10(len(frac)))
}

// MustParseRate is [ParseRate] for constants in tests and examples; it
// panics on a malformed rate.
func MustParseRate(s string) Rate {
	r, err := ParseRate(s)
	if err != nil {
		panic(err)
	}
	return r
}

// Valid reports whether r is a positive rate (not the zero value).
func (r Rate) Valid() bool { return r.num > 0 && r.den > 0 }

// Num and Den return the rate in lowest terms.
func (r Rate) Num() int64 { return r.num }

// Den returns the denominator; see [Rate.Num].
func (r Rate) Den() int64 { return r.den }

// Inverse returns 1/r.
func (r Rate) Inverse() Rate { return Rate{num: r.den, den: r.num} }

// String returns a decimal when the rate has a finite decimal expansion of
// at most 18 decimals ("0.9215") and "num/den" otherwise ("1/3"); [ParseRate] reads both back.
func (r Rate) String() string {
	if !r.Valid() {
		return "0/0"
	}
	for scale := 0; scale <= 18; scale++ {
		p := pow10(scale)
		if p%r.den == 0 {
			// ParseRate reads at most 18 significant digits, so the decimal
			// form is used only below 10^18; otherwise "num/den" round-trips.
			if f := p / r.den; r.num <= math.MaxInt64/f && r.num*f < 1e18 {
				return decimalString(r.num*f, scale)
			}
			break
		}
	}
	return strconv.FormatInt(r.num, 10) + "/" + strconv.FormatInt(r.den, 10)
}

// MarshalText encodes r in its [Rate.String] form.
func (r Rate) MarshalText() ([]byte, error) {
	if !r.Valid() {
		return nil, fmt.Errorf("%w: zero Rate", ErrRateSyntax)
	}
	return []byte(r.String()), nil
}

// UnmarshalText decodes with [ParseRate].
func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Rounding says how [Money.Convert] rounds a result that falls between two
// minor units. The zero value is HalfEven.
type Rounding uint8

// The rounding modes.
const (
	// HalfEven rounds to the nearest minor unit and a tie to the even one
	// (banker's rounding): unbiased over many conversions. The default.
	HalfEven Rounding = iota
	// HalfUp rounds to the nearest minor unit and a tie away from zero
	// (the rule of most receipts).
	HalfUp
	// TowardZero truncates: never gives more than the exact value.
	TowardZero
)

// String returns "half-even", "half-up" or "toward-zero".
func (r Rounding) String() string {
	switch r {
	case HalfEven:
		return "half-even"
	case HalfUp:
		return "half-up"
	case TowardZero:
		return "toward-zero"
	}
	return "Rounding(" + strconv.Itoa(int(r)) + ")"
}

// Convert returns m in currency to at rate r: exactly
// m.Minor() × r × 10^(to.Exponent() − from.Exponent()), rounded to a whole
// minor unit by mode. The arithmetic is done in math/big, so no intermediate
// overflows; a result beyond int64 is refused with [ErrOverflow]. The sign of
// m is kept (a negative amount converts to a negative or zero one), and the
// result is always within one minor unit of the exact value (half a unit for
// the half modes).
func (m Money) Convert(r Rate, to Currency, mode Rounding) (Money, error) {
	switch {
	case !m.currency.Known() || !to.Known():
		return Money{}, fmt.Errorf("%w: convert %s to %s", ErrUnknownCurrency, m.currency, to)
	case !r.Valid():
		return Money{}, fmt.Errorf("%w: convert with rate %s", ErrRateSyntax, r)
	case mode > TowardZero:
		return Money{}, fmt.Errorf("payments: unknown rounding mode %d", mode)
	}
	num := new(big.Int).Mul(big.NewInt(m.minor), big.NewInt(r.num))
	den := big.NewInt(r.den)
	if shift := to.Exponent() - m.currency.Exponent(); shift > 0 {
		num.Mul(num, big.NewInt(pow10(shift)))
	} else if shift < 0 {
		den.Mul(den, big.NewInt(pow10(-shift)))
	}
	q := roundQuo(num, den, mode)
	if !q.IsInt64() {
		return Money{}, fmt.Errorf("%w: %s at %s in %s", ErrOverflow, m, r, to)
	}
	return Money{minor: q.Int64(), currency: to}, nil
}

// roundQuo returns num/den (den > 0) rounded by mode.
func roundQuo(num, den *big.Int, mode Rounding) *big.Int {
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int)) // q truncated toward zero
	if rem.Sign() == 0 || mode == TowardZero {
		return q
	}
	twice := new(big.Int).Abs(rem)
	twice.Lsh(twice, 1)
	away := false
	switch c := twice.Cmp(den); {
	case c > 0:
		away = true
	case c == 0:
		away = mode == HalfUp || q.Bit(0) == 1
	}
	if away {
		q.Add(q, big.NewInt(int64(num.Sign())))
	}
	return q
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// pow10 returns 10^n for 0 ≤ n ≤ 18.
func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parsePositiveInt(s string) (int64, error) {
	if s == "" || !allDigits(s) {
		return 0, ErrRateSyntax
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, ErrRateSyntax
	}
	return v, nil
}

func decimalString(num int64, scale int) string {
	s := strconv.FormatInt(num, 10)
	if scale == 0 {
		return s
	}
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	return s[:len(s)-scale] + "." + s[len(s)-scale:]
}
