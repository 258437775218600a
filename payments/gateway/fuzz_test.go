package gateway_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/stretchr/testify/require"
)

// FuzzPay sends arbitrary requests, as a client of the gateway could: Pay
// never panics, always ends in a definite state with a reason, and moves
// money only for a valid request that succeeded.
func FuzzPay(f *testing.F) {
	f.Add("order-1", "acct_alice001", "acct_bob00001", "12.34 USD", "", "coffee")
	f.Add("", "alice", "bob", "-1 USD", "XXX", "4111 1111 1111 1111")
	f.Add("k", "acct_alice001", "acct_alice001", "0.001 USD", "EUR", "")
	f.Add("order-2", "acct_alice001", "acct_bob00001", "10.00 EUR", "USD", "")
	f.Add("../../x", "acct_carol001", "acct_bob00001", "99999999999999999999 USD", "JPY", "\x00")
	f.Fuzz(func(t *testing.T, key, payer, payee, amount, target, desc string) {
		synctest.Test(t, func(t *testing.T) {
			w := newWorld(t, nil)
			defer w.gw.Close()
			req := payments.PaymentRequest{IdempotencyKey: key, Payer: payments.AccountID(payer),
				Payee: payments.AccountID(payee), Description: desc}
			req.Amount, _ = payments.ParseMoney(amount)
			req.TargetCurrency, _ = payments.LookupCurrency(target)
			r := w.gw.Pay(context.Background(), req)
			require.NotEmpty(t, r.Reason)
			switch r.State {
			case gateway.Succeeded:
				require.NoError(t, req.Validate())
				require.Equal(t, 1, w.bank.Stats().DebitsApplied)
			case gateway.Declined, gateway.Rejected:
				require.Zero(t, w.bank.Stats().DebitsApplied)
			default:
				t.Fatalf("indefinite state %q for %+v", r.State, req)
			}
			if req.Validate() != nil {
				require.Equal(t, gateway.Declined, r.State)
			}
		})
	})
}
