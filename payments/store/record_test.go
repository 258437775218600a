package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

// A Record marshals and reads back whether or not its settlement was
// saved: an unsettled Record (a claimed, rejected or declined payment)
// has the zero Money, which Money itself refuses to marshal.
func TestRecordJSONRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	req := payments.PaymentRequest{IdempotencyKey: "order-1", Payer: "acct_alice0001", Payee: "acct_bob00002",
		Amount: payments.MustParseMoney("12.50 USD")}
	rate := payments.MustParseRate("0.9")
	settled := store.Record{Request: req, Settled: payments.MustParseMoney("11.25 EUR"),
		Quote: &payments.Quote{From: payments.USD, To: payments.EUR, Rate: rate, AsOf: at}, Bank: "bank-a", Started: true,
		Result: store.Result{State: store.Succeeded, TransferID: "tr-1"}, Log: store.Queued}
	for name, rec := range map[string]store.Record{
		"unsettled": {Request: req, Result: store.Result{State: store.Rejected, Reason: "bank breaker open"},
			Claim: store.Claim{Token: "t", Owner: "gw", Expires: at}},
		"settled": settled,
	} {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(rec)
			require.NoError(t, err)
			var back store.Record
			require.NoError(t, json.Unmarshal(b, &back), "%s", b)
			assert.Equal(t, rec, back)
		})
	}
}

func TestUnsettledRecordLeavesSettledOut(t *testing.T) {
	req := payments.PaymentRequest{IdempotencyKey: "order-1", Payer: "acct_alice0001", Payee: "acct_bob00002",
		Amount: payments.MustParseMoney("12.50 USD")}
	b, err := json.Marshal(store.Record{Request: req})
	require.NoError(t, err)
	assert.NotContains(t, string(b), `"settled"`)
}
