package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
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

// FuzzHandler posts arbitrary bodies and asks for arbitrary keys: the
// handler never panics, answers one of its documented statuses with a
// JSON body, and moves money only for a valid request.
func FuzzHandler(f *testing.F) {
	f.Add([]byte(payBody), "order-1")
	f.Add([]byte(`{"idempotency_key":"k","payer":"acct_alice001","payee":"acct_bob00001","amount":"1 EUR","target_currency":"USD"}`), "k")
	f.Add([]byte(`{"amount":"1e9 USD"}`), "../x")
	f.Add([]byte(`[]`), "")
	f.Add([]byte("{\"description\":\"\xff\"}"), "%00")
	f.Add([]byte(payBody+"trailing"), "order-1/extra")
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		synctest.Test(t, func(t *testing.T) {
			w := newWorld(t, nil)
			defer w.gw.Close()
			h := w.gw.Handler()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, gateway.PathPayments, bytes.NewReader(body)))
			require.Contains(t, []int{200, 202, 400, 409, 413, 422, 503}, rec.Code, rec.Body.String())
			require.True(t, json.Valid(rec.Body.Bytes()), rec.Body.String())
			if rec.Code != http.StatusOK {
				require.Zero(t, w.bank.Stats().DebitsApplied)
			}
			req, err := http.NewRequest(http.MethodGet, "http://gw.invalid"+gateway.PathPayments+"/"+key, nil)
			if err != nil {
				return // not a URL a client could send
			}
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Contains(t, []int{200, 301, 307, 400, 404}, rec.Code, rec.Body.String())
		})
	})
}
