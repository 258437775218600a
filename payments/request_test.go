package payments_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
)

func validRequest() payments.PaymentRequest {
	return payments.PaymentRequest{
		IdempotencyKey: "pay-2026-0001",
		Payer:          "acct_alice0001",
		Payee:          "acct_bob000002",
		Amount:         payments.MustParseMoney("12.34 USD"),
		Description:    "Invoice 77, thanks!",
	}
}

func TestValidateAcceptsAGoodRequest(t *testing.T) {
	r := validRequest()
	require.NoError(t, r.Validate())
	r.TargetCurrency = payments.EUR
	assert.NoError(t, r.Validate())
}

func TestValidateReportsEveryProblem(t *testing.T) {
	r := payments.PaymentRequest{
		IdempotencyKey: "bad key with spaces",
		Payer:          "alice",
		Payee:          "",
		Amount:         payments.MustParseMoney("-1.00 USD"),
		Description:    "card 4111 1111 1111 1111 exp 12/29",
		Reference:      "line\nbreak",
	}
	err := r.Validate()
	var ve *payments.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.ErrorIs(t, err, payments.ErrInvalidRequest)
	for _, f := range []string{"idempotency_key", "payer", "payee", "amount", "description", "reference"} {
		assert.True(t, ve.Has(f), "missing problem for %s in %v", f, err)
	}
	assert.Len(t, ve.Problems, 6)
}

func TestValidateFields(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*payments.PaymentRequest)
		field string
	}{
		{"no key", func(r *payments.PaymentRequest) { r.IdempotencyKey = "" }, "idempotency_key"},
		{"long key", func(r *payments.PaymentRequest) { r.IdempotencyKey = strings.Repeat("k", 65) }, "idempotency_key"},
		{"dot-dot key", func(r *payments.PaymentRequest) { r.IdempotencyKey = ".." }, "idempotency_key"},
		{"short account", func(r *payments.PaymentRequest) { r.Payer = "acct_abc" }, "payer"},
		{"upper-case account", func(r *payments.PaymentRequest) { r.Payee = "acct_BOB000002" }, "payee"},
		{"same accounts", func(r *payments.PaymentRequest) { r.Payee = r.Payer }, "payee"},
		{"zero amount", func(r *payments.PaymentRequest) { r.Amount = payments.New(0, payments.USD) }, "amount"},
		{"no currency", func(r *payments.PaymentRequest) { r.Amount = payments.Money{} }, "amount"},
		{"dashed PAN", func(r *payments.PaymentRequest) { r.Reference = "5500-0000-0000-0004" }, "reference"},
		{"long text", func(r *payments.PaymentRequest) { r.Description = strings.Repeat("x", 281) }, "description"},
		{"bad utf8", func(r *payments.PaymentRequest) { r.Description = "\xff" }, "description"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := validRequest()
			c.edit(&r)
			var ve *payments.ValidationError
			require.ErrorAs(t, r.Validate(), &ve)
			assert.Equal(t, []string{c.field}, fields(ve))
		})
	}
}

func fields(ve *payments.ValidationError) []string {
	var out []string
	for _, p := range ve.Problems {
		out = append(out, p.Field)
	}
	return out
}

func TestContainsCardNumber(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"4111111111111111", true},
		{"pay 4111 1111 1111 1111 now", true},
		{"4111-1111-1111-1111", true},
		{"378282246310005", true},          // 15-digit Amex test number
		{"4111111111111111 2029", true},    // card followed by more digits
		{"4111111111111112", false},        // fails Luhn
		{"411111111111", false},            // 12 digits
		{"41111111111111111111111", false}, // 23 unbroken digits: not a card as written
		{"4111  1111 1111 1111", false},    // double space breaks the run into short pieces
		{"invoice 2024-05-17 amount 12", false},
		{"", false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, payments.ContainsCardNumber(c.in), "%q", c.in)
	}
}

func TestTransferRequestValidateUsesItsFieldNames(t *testing.T) {
	err := payments.TransferRequest{IdempotencyKey: "k1", From: "x", To: "acct_bob000002", Amount: payments.MustParseMoney("1 USD")}.Validate()
	var ve *payments.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []string{"from"}, fields(ve))
}

func TestIsPermanent(t *testing.T) {
	assert.True(t, payments.IsPermanent(&payments.DeclineError{Reason: payments.DeclineInsufficientFunds}))
	assert.True(t, payments.IsPermanent(errors.Join(errors.New("x"), payments.ErrIdempotencyConflict)))
	assert.False(t, payments.IsPermanent(errors.New("connection reset")))
	assert.False(t, payments.IsPermanent(nil))
}
