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

func TestTransferRequestValidateUsesItsFieldNames(t *testing.T) {
	err := payments.TransferRequest{IdempotencyKey: "k1", From: "x", To: "acct_bob000002", Amount: payments.MustParseMoney("1 USD")}.Validate()
	var ve *payments.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []string{"from"}, fields(ve))
}

func TestTransferRequestPaymentID(t *testing.T) {
	req := payments.TransferRequest{IdempotencyKey: "k1", From: "acct_alice0001", To: "acct_bob000002",
		Amount: payments.MustParseMoney("1 USD")}
	require.NoError(t, req.Validate(), "the payment reference is optional")
	req.PaymentID = "pay-1"
	require.NoError(t, req.Validate())
	req.PaymentID = "bad id/.."
	var ve *payments.ValidationError
	require.ErrorAs(t, req.Validate(), &ve)
	assert.Equal(t, []string{"payment_id"}, fields(ve))
	req.From = "x"
	require.ErrorAs(t, req.Validate(), &ve)
	assert.Equal(t, []string{"from", "payment_id"}, fields(ve))
}

func TestIsPermanent(t *testing.T) {
	assert.True(t, payments.IsPermanent(&payments.DeclineError{Reason: payments.DeclineInsufficientFunds}))
	assert.True(t, payments.IsPermanent(errors.Join(errors.New("x"), payments.ErrIdempotencyConflict)))
	assert.True(t, payments.IsPermanent(payments.CheckBatch(make([]payments.Entry, payments.MaxLogBatch+1))))
	assert.False(t, payments.IsPermanent(errors.New("connection reset")))
	assert.False(t, payments.IsPermanent(nil))
}
