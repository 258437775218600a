package payments_test

import (
	"math"

	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
)

func TestConvert(t *testing.T) {
	kwd, err := payments.LookupCurrency("KWD")
	require.NoError(t, err)
	cases := []struct {
		name string
		from string
		rate string
		to   payments.Currency
		mode payments.Rounding
		want string
	}{
		{"simple", "100.00 USD", "0.9215", payments.EUR, payments.HalfEven, "92.15 EUR"},
		{"tie to even down", "0.25 USD", "0.5", payments.EUR, payments.HalfEven, "0.12 EUR"},
		{"tie to even up", "0.35 USD", "0.5", payments.EUR, payments.HalfEven, "0.18 EUR"},
		{"tie half up", "0.25 USD", "0.5", payments.EUR, payments.HalfUp, "0.13 EUR"},
		{"negative tie half up", "-0.25 USD", "0.5", payments.EUR, payments.HalfUp, "-0.13 EUR"},
		{"negative tie even", "-0.25 USD", "0.5", payments.EUR, payments.HalfEven, "-0.12 EUR"},
		{"toward zero", "0.99 USD", "1/3", payments.EUR, payments.TowardZero, "0.33 EUR"},
		{"to JPY drops decimals", "12.34 USD", "150.25", payments.JPY, payments.HalfEven, "1854 JPY"},
		{"from JPY", "1000 JPY", "0.0066", payments.USD, payments.HalfEven, "6.60 USD"},
		{"to KWD", "10.00 USD", "0.3071", kwd, payments.HalfEven, "3.071 KWD"},
		{"thirds", "1.00 USD", "1/3", payments.EUR, payments.HalfEven, "0.33 EUR"},
		{"two thirds", "2.00 USD", "1/3", payments.EUR, payments.HalfEven, "0.67 EUR"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := payments.MustParseMoney(c.from).Convert(payments.MustParseRate(c.rate), c.to, c.mode)
			require.NoError(t, err)
			assert.Equal(t, c.want, got.String())
		})
	}
}

func TestConvertRefuses(t *testing.T) {
	big := payments.New(1<<62, payments.JPY)
	_, err := big.Convert(payments.MustParseRate("100"), payments.USD, payments.HalfEven)
	assert.ErrorIs(t, err, payments.ErrOverflow)
	_, err = payments.MustParseMoney("1 USD").Convert(payments.Rate{}, payments.EUR, payments.HalfEven)
	assert.ErrorIs(t, err, payments.ErrRateSyntax)
	_, err = payments.MustParseMoney("1 USD").Convert(payments.MustParseRate("1"), payments.Currency{}, payments.HalfEven)
	assert.ErrorIs(t, err, payments.ErrUnknownCurrency)
	_, err = payments.MustParseMoney("1 USD").Convert(payments.MustParseRate("1"), payments.EUR, payments.Rounding(9))
	assert.Error(t, err)
}

func TestParseRate(t *testing.T) {
	cases := []struct{ in, want string }{
		{"1.0850", "1.085"},
		{"0.9215", "0.9215"},
		{"150", "150"},
		{"1/3", "1/3"},
		{"2/4", "0.5"},
		{"007.50", "7.5"},
		{"0.000000000000000001", "0.000000000000000001"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			r, err := payments.ParseRate(c.in)
			require.NoError(t, err)
			assert.Equal(t, c.want, r.String())
			back, err := payments.ParseRate(r.String())
			require.NoError(t, err)
			assert.Equal(t, r, back)
		})
	}
	for _, bad := range []string{"", "0", "0.0", "-1", "+1", "1e3", "1.", ".5", "1/0", "0/1", "a/b", "1/-2", "1.2.3", "NaN", "1234567890123456789", "0.0000000000000000001"} {
		_, err := payments.ParseRate(bad)
		assert.ErrorIs(t, err, payments.ErrRateSyntax, "%q", bad)
	}
}

// Regression (third review): rates whose decimal form had 19 significant
// digits could be encoded but not parsed back.
func TestRateTextRoundTripsAtTheEdges(t *testing.T) {
	for _, r := range []payments.Rate{
		payments.MustParseRate("0.000000000000000001").Inverse(),
		mustRate(t, math.MaxInt64, 1),
		mustRate(t, 1000000000000000001, 1000),
		payments.MustParseRate("1.0842"),
	} {
		b, err := r.MarshalText()
		require.NoError(t, err)
		var back payments.Rate
		require.NoError(t, back.UnmarshalText(b), "%s", b)
		assert.Equal(t, r, back, "%s", b)
	}
}

func mustRate(t *testing.T, num, den int64) payments.Rate {
	t.Helper()
	r, err := payments.NewRate(num, den)
	require.NoError(t, err)
	return r
}
