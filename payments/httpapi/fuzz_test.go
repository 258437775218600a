package httpapi_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
)

// FuzzBankHandler feeds arbitrary bodies to the transfer endpoint: it must
// never panic, must answer a status of the API, and must debit only for a
// 200 whose body is a receipt.
func FuzzBankHandler(f *testing.F) {
	for _, s := range []string{
		`{"idempotency_key":"k1","from":"acct_alice0001","to":"acct_bob000002","amount":"1.00 USD"}`,
		`{"idempotency_key":"k1","from":"acct_alice0001","to":"acct_bob000002","amount":"1.00 USD","x":1}`,
		`{"amount":1e308}`, `[]`, `null`, `{`, `"\u0000"`, ``, `{"amount":"-0 USD"}`,
		`{"idempotency_key":"k2","from":"acct_alice0001","to":"acct_bob000002","amount":"100000.00 USD"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		b := simBank(t)
		h, err := httpapi.NewBankHandler(b, httpapi.HandlerConfig{MaxBodyBytes: 1024})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/transfers", strings.NewReader(body)))
		switch rec.Code {
		case 200:
			var r payments.Receipt
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || r.TransferID == "" {
				t.Fatalf("200 without a receipt: %q", rec.Body.String())
			}
		case 400, 409, 413, 422:
			var eb httpapi.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Code == "" {
				t.Fatalf("%d without an error body: %q", rec.Code, rec.Body.String())
			}
		default:
			t.Fatalf("unexpected status %d for %q", rec.Code, body)
		}
		if debits := b.Stats().DebitsApplied; (rec.Code == 200) != (debits == 1) {
			t.Fatalf("status %d with %d debits", rec.Code, debits)
		}
	})
}
