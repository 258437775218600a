package payments_test

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
)

func TestParseMoneyAccepts(t *testing.T) {
	kwd, err := payments.LookupCurrency("KWD")
	require.NoError(t, err)
	cases := []struct {
		in     string
		minor  int64
		cur    payments.Currency
		String string
	}{
		{"12.34 USD", 1234, payments.USD, "12.34 USD"},
		{"12.3 USD", 1230, payments.USD, "12.30 USD"},
		{"12 USD", 1200, payments.USD, "12.00 USD"},
		{"0.01 EUR", 1, payments.EUR, "0.01 EUR"},
		{"-0.5 GBP", -50, payments.GBP, "-0.50 GBP"},
		{"-0 CHF", 0, payments.CHF, "0.00 CHF"},
		{"1500 JPY", 1500, payments.JPY, "1500 JPY"},
		{"1.234 KWD", 1234, kwd, "1.234 KWD"},
		{"92233720368547758.07 USD", math.MaxInt64, payments.USD, "92233720368547758.07 USD"},
		{"-92233720368547758.08 USD", math.MinInt64, payments.USD, "-92233720368547758.08 USD"},
		{"9223372036854775807 JPY", math.MaxInt64, payments.JPY, "9223372036854775807 JPY"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			m, err := payments.ParseMoney(c.in)
			require.NoError(t, err)
			assert.Equal(t, c.minor, m.Minor())
			assert.Equal(t, c.cur, m.Currency())
			assert.Equal(t, c.String, m.String())
		})
	}
}

func TestParseMoneyRefuses(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{"", payments.ErrMoneySyntax},
		{"12.34", payments.ErrMoneySyntax},
		{"12.345 USD", payments.ErrMoneySyntax},
		{"12. USD", payments.ErrMoneySyntax},
		{".5 USD", payments.ErrMoneySyntax},
		{"1.5 JPY", payments.ErrMoneySyntax},
		{"+1 USD", payments.ErrMoneySyntax},
		{"--1 USD", payments.ErrMoneySyntax},
		{"01 USD", payments.ErrMoneySyntax},
		{"1e3 USD", payments.ErrMoneySyntax},
		{"1,000 USD", payments.ErrMoneySyntax},
		{"1 000 USD", payments.ErrUnknownCurrency},
		{"12.34  USD", payments.ErrUnknownCurrency},
		{"12.34 usd", payments.ErrUnknownCurrency},
		{"12.34 XYZ", payments.ErrUnknownCurrency},
		{"NaN USD", payments.ErrMoneySyntax},
		{"92233720368547758.08 USD", payments.ErrOverflow},
		{"-92233720368547758.09 USD", payments.ErrOverflow},
		{"99999999999999999999999 JPY", payments.ErrOverflow},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			_, err := payments.ParseMoney(c.in)
			assert.ErrorIs(t, err, c.want)
		})
	}
}

func TestAddSub(t *testing.T) {
	maxUSD := payments.New(math.MaxInt64, payments.USD)
	minUSD := payments.New(math.MinInt64, payments.USD)
	one := payments.New(1, payments.USD)
	cases := []struct {
		name    string
		op      func() (payments.Money, error)
		want    int64
		wantErr error
	}{
		{"add", func() (payments.Money, error) { return one.Add(one) }, 2, nil},
		{"sub to negative", func() (payments.Money, error) { return one.Sub(payments.New(3, payments.USD)) }, -2, nil},
		{"add overflow", func() (payments.Money, error) { return maxUSD.Add(one) }, 0, payments.ErrOverflow},
		{"add underflow", func() (payments.Money, error) { return minUSD.Add(payments.New(-1, payments.USD)) }, 0, payments.ErrOverflow},
		{"sub overflow", func() (payments.Money, error) { return maxUSD.Sub(payments.New(-1, payments.USD)) }, 0, payments.ErrOverflow},
		{"sub underflow", func() (payments.Money, error) { return minUSD.Sub(one) }, 0, payments.ErrOverflow},
		{"min minus min", func() (payments.Money, error) { return minUSD.Sub(minUSD) }, 0, nil},
		{"mismatch", func() (payments.Money, error) { return one.Add(payments.New(1, payments.EUR)) }, 0, payments.ErrCurrencyMismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.op()
			if c.wantErr != nil {
				assert.ErrorIs(t, err, c.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got.Minor())
		})
	}
}

func TestMoneyText(t *testing.T) {
	m := payments.MustParseMoney("-7.05 EUR")
	b, err := m.MarshalText()
	require.NoError(t, err)
	var back payments.Money
	require.NoError(t, back.UnmarshalText(b))
	assert.Equal(t, m, back)

	_, err = payments.Money{}.MarshalText()
	assert.ErrorIs(t, err, payments.ErrUnknownCurrency, "a currency-less amount must not reach the wire")
	assert.Equal(t, "0 ???", payments.Money{}.String())
}

func TestLookupCurrency(t *testing.T) {
	for _, c := range payments.Currencies() {
		got, err := payments.LookupCurrency(c.Code())
		require.NoError(t, err)
		assert.Equal(t, c, got)
	}
	want := map[string]int{"USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "JPY": 0, "KWD": 3, "BHD": 3}
	for code, exp := range want {
		c, err := payments.LookupCurrency(code)
		require.NoError(t, err, code)
		assert.Equal(t, exp, c.Exponent(), code)
	}
	_, err := payments.LookupCurrency("usd")
	assert.True(t, errors.Is(err, payments.ErrUnknownCurrency))
	assert.False(t, payments.Currency{}.Known())
}
