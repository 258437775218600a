package payments_test

import (
	"errors"
	"math"
	"math/big"
	"testing"

	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/payments"
)

func drawCurrency(t *rapid.T, label string) payments.Currency {
	return rapid.SampledFrom(payments.Currencies()).Draw(t, label)
}

// drawMinor favours the edges of int64, where overflow bugs live.
func drawMinor(t *rapid.T, label string) int64 {
	return rapid.OneOf(
		rapid.Int64(),
		rapid.Int64Range(-100_000, 100_000),
		rapid.SampledFrom([]int64{math.MinInt64, math.MinInt64 + 1, -1, 0, 1, math.MaxInt64 - 1, math.MaxInt64}),
	).Draw(t, label)
}

func TestPropFormatParseRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := payments.New(drawMinor(t, "minor"), drawCurrency(t, "currency"))
		back, err := payments.ParseMoney(m.String())
		if err != nil {
			t.Fatalf("ParseMoney(%q): %v", m.String(), err)
		}
		if back != m {
			t.Fatalf("round trip of %q gave %#v, want %#v", m.String(), back, m)
		}
	})
}

func TestPropParseFormatRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.StringMatching(`-?(0|[1-9][0-9]{0,19})(\.[0-9]{1,3})? (USD|JPY|KWD|EUR|XXX)`).Draw(t, "s")
		m, err := payments.ParseMoney(s)
		if err != nil {
			return // refused input has nothing to round-trip
		}
		again, err := payments.ParseMoney(m.String())
		if err != nil || again != m {
			t.Fatalf("%q parsed to %v, which reparsed to %v, %v", s, m, again, err)
		}
	})
}

func TestPropAddSubExactOrOverflow(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := drawCurrency(t, "currency")
		a, b := drawMinor(t, "a"), drawMinor(t, "b")
		ma, mb := payments.New(a, c), payments.New(b, c)
		check := func(op string, got payments.Money, err error, exact *big.Int) {
			if exact.IsInt64() {
				if err != nil || got.Minor() != exact.Int64() || got.Currency() != c {
					t.Fatalf("%d %s %d = %v, %v; want %s", a, op, b, got, err, exact)
				}
				return
			}
			if !errors.Is(err, payments.ErrOverflow) {
				t.Fatalf("%d %s %d: want ErrOverflow, got %v, %v", a, op, b, got, err)
			}
		}
		sum, err := ma.Add(mb)
		check("+", sum, err, new(big.Int).Add(big.NewInt(a), big.NewInt(b)))
		diff, err := ma.Sub(mb)
		check("-", diff, err, new(big.Int).Sub(big.NewInt(a), big.NewInt(b)))
	})
}

func TestPropConvertBounds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		from, to := drawCurrency(t, "from"), drawCurrency(t, "to")
		minor := drawMinor(t, "minor")
		num := rapid.Int64Range(1, 1_000_000_000).Draw(t, "num")
		den := rapid.Int64Range(1, 1_000_000_000).Draw(t, "den")
		mode := rapid.SampledFrom([]payments.Rounding{payments.HalfEven, payments.HalfUp, payments.TowardZero}).Draw(t, "mode")
		rate, err := payments.NewRate(num, den)
		if err != nil {
			t.Fatal(err)
		}
		got, err := payments.New(minor, from).Convert(rate, to, mode)

		exact := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(minor), big.NewInt(num)), big.NewInt(den))
		scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(to.Exponent())), nil))
		scale.Quo(scale, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(from.Exponent())), nil)))
		exact.Mul(exact, scale)

		if err != nil {
			// Only a result beyond int64 may be refused.
			lim := new(big.Rat).SetInt64(math.MaxInt64 - 1)
			if !errors.Is(err, payments.ErrOverflow) || new(big.Rat).Abs(exact).Cmp(lim) < 0 {
				t.Fatalf("Convert(%d %s at %s to %s) refused: %v (exact %s)", minor, from, rate, to, err, exact.RatString())
			}
			return
		}
		dist := new(big.Rat).Sub(new(big.Rat).SetInt64(got.Minor()), exact)
		dist.Abs(dist)
		bound := big.NewRat(1, 2)
		if mode == payments.TowardZero {
			bound = big.NewRat(1, 1)
		}
		if dist.Cmp(bound) > 0 || (mode != payments.TowardZero && dist.Cmp(big.NewRat(1, 1)) >= 0) {
			t.Fatalf("Convert gave %d, exact %s, off by %s", got.Minor(), exact.RatString(), dist.RatString())
		}
		if got.Sign() != 0 && got.Sign() != exact.Sign() {
			t.Fatalf("sign flipped: %d from exact %s", got.Minor(), exact.RatString())
		}
		if got.Currency() != to {
			t.Fatalf("currency %s, want %s", got.Currency(), to)
		}
	})
}
