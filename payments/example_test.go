package payments_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/riprap-go/riprap/payments"
)

func ExampleParseMoney() {
	m, err := payments.ParseMoney("12.3 USD")
	fmt.Println(m, m.Minor(), err)

	_, err = payments.ParseMoney("12.345 USD")
	fmt.Println(errors.Is(err, payments.ErrMoneySyntax))
	// Output:
	// 12.30 USD 1230 <nil>
	// true
}

func ExampleMoney_Add() {
	a := payments.MustParseMoney("92233720368547758.00 USD")
	_, err := a.Add(payments.MustParseMoney("1.00 USD"))
	fmt.Println(errors.Is(err, payments.ErrOverflow))
	_, err = a.Add(payments.MustParseMoney("1.00 EUR"))
	fmt.Println(errors.Is(err, payments.ErrCurrencyMismatch))
	// Output:
	// true
	// true
}

func ExampleMoney_Convert() {
	price := payments.MustParseMoney("0.25 USD")
	rate := payments.MustParseRate("0.5") // 1 USD = 0.5 EUR; the exact result is 0.125 EUR
	even, _ := price.Convert(rate, payments.EUR, payments.HalfEven)
	up, _ := price.Convert(rate, payments.EUR, payments.HalfUp)
	yen, _ := payments.MustParseMoney("12.34 USD").Convert(payments.MustParseRate("150.25"), payments.JPY, payments.HalfEven)
	fmt.Println(even, up, yen)
	// Output:
	// 0.12 EUR 0.13 EUR 1854 JPY
}

func ExamplePaymentRequest_Validate() {
	req := payments.PaymentRequest{
		IdempotencyKey: "order-1001",
		Payer:          "acct_alice0001",
		Payee:          "bob",
		Amount:         payments.MustParseMoney("0 USD"),
		Description:    "card 4111 1111 1111 1111",
	}
	var ve *payments.ValidationError
	if errors.As(req.Validate(), &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// payee: want acct_ followed by 8-32 of [a-z0-9]
	// amount: must be positive
	// description: looks like it contains a card number
}

func ExampleContainsCardNumber() {
	for _, s := range []string{
		"4111.1111.1111.1111",
		"４１１１ １１１１ １１１１ １１１１", // full-width, ideographic spaces
		"acct_4111111111111111",
		"invoice 2026-0042, 3 items",
	} {
		fmt.Println(payments.ContainsCardNumber(s))
	}
	// Output:
	// true
	// true
	// true
	// false
}

// AppendEach gives a log that appends one entry at a time the batch
// method of payments.Log.
func ExampleAppendEach() {
	stored := map[string]bool{}
	appendOne := func(_ context.Context, e payments.Entry) error {
		if err := e.Validate(); err != nil {
			return err
		}
		stored[e.PaymentID] = true
		return nil
	}
	results, err := payments.AppendEach(context.Background(), appendOne, []payments.Entry{
		{PaymentID: "pay-1", Amount: payments.MustParseMoney("1 USD")},
		{PaymentID: "", Amount: payments.MustParseMoney("1 USD")},
	})
	fmt.Println(err, results[0], errors.Is(results[1], payments.ErrInvalidRequest), len(stored))

	_, err = payments.AppendEach(context.Background(), appendOne, make([]payments.Entry, payments.MaxLogBatch+1))
	fmt.Println(errors.Is(err, payments.ErrBatchTooLarge))
	// Output:
	// <nil> <nil> true 1
	// true
}
