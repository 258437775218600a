package payments_test

import (
	"errors"
	"testing"

	"github.com/riprap-go/riprap/payments"
)

// FuzzParseMoney: no input panics; whatever parses formats back to itself.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"12.34 USD", "-0.01 EUR", "1500 JPY", "1.234 KWD", "92233720368547758.07 USD",
		"-92233720368547758.08 USD", "92233720368547758.08 USD", "1e3 USD", "", " ", "1.2.3 USD", "-", "0 ???"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := payments.ParseMoney(s)
		if err != nil {
			if !errors.Is(err, payments.ErrMoneySyntax) && !errors.Is(err, payments.ErrUnknownCurrency) && !errors.Is(err, payments.ErrOverflow) {
				t.Fatalf("ParseMoney(%q): unclassified error %v", s, err)
			}
			return
		}
		back, err := payments.ParseMoney(m.String())
		if err != nil || back != m {
			t.Fatalf("%q → %v → %v, %v", s, m, back, err)
		}
	})
}

// FuzzValidateRequest: no input panics; a request is either valid — and
// then meets every documented rule — or refused with at least one problem.
func FuzzValidateRequest(f *testing.F) {
	f.Add("pay-1", "acct_alice0001", "acct_bob000002", int64(1234), "USD", "", "thanks", "")
	f.Add("", "", "", int64(0), "", "", "", "")
	f.Add("k", "acct_alice0001", "acct_alice0001", int64(-5), "JPY", "XXX", "4111 1111 1111 1111", "\x00")
	f.Add("k:1", "acct_0123456789abcdef", "acct_zzzzzzzz", int64(1), "KWD", "EUR", "ref 378282246310005", "ok")
	f.Fuzz(func(t *testing.T, key, payer, payee string, minor int64, cur, target, desc, ref string) {
		c, _ := payments.LookupCurrency(cur)
		tc, _ := payments.LookupCurrency(target)
		r := payments.PaymentRequest{IdempotencyKey: key, Payer: payments.AccountID(payer), Payee: payments.AccountID(payee),
			Amount: payments.New(minor, c), TargetCurrency: tc, Description: desc, Reference: ref}
		err := r.Validate()
		if err == nil {
			if !payments.ValidIdempotencyKey(key) || !r.Payer.Valid() || !r.Payee.Valid() || payer == payee ||
				minor <= 0 || !c.Known() || payments.ContainsCardNumber(desc) || payments.ContainsCardNumber(ref) {
				t.Fatalf("accepted an invalid request: %+v", r)
			}
			return
		}
		var ve *payments.ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) == 0 {
			t.Fatalf("Validate returned %T %v, want *ValidationError with problems", err, err)
		}
	})
}

// FuzzContainsCardNumber: no input panics, and the scanner, which keeps
// only a fixed tail of the text, agrees with the plain reference rule.
func FuzzContainsCardNumber(f *testing.F) {
	for _, s := range []string{"4111.1111.1111.1111", "４１１１ １１１１ １１１１ １１１１", "acct_4111111111111111",
		"4111\u00a0\u00a01111_1111,1111", "41111111111111111111111", "٤١١١١١١١١١١١١١١١", "\xff4111", "⁴¹¹¹¹¹¹¹¹¹¹¹¹¹¹¹",
		"1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3", "pay 4111 a 1111 1111 1111"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := payments.ContainsCardNumber(s), referenceContains(s); got != want {
			t.Fatalf("ContainsCardNumber(%q) = %v, reference %v", s, got, want)
		}
	})
}
