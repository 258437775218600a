package httpapi_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
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

// FuzzLogHandler: arbitrary bodies to the log endpoint never panic, are
// answered 204 or with an error body, and are stored only on a 204.
func FuzzLogHandler(f *testing.F) {
	for _, s := range []string{
		`{"payment_id":"p1","transfer_id":"t","payer":"acct_alice0001","payee":"acct_bob000002","amount":"1.00 USD","at":"2026-01-01T00:00:00Z"}`,
		`{"payment_id":"p1","amount":"1.00 USD","credited":"0 JPY","at":"x"}`,
		`{"payment_id":"","amount":"1 USD"}`, `{"payment_id":"p1"}`, `{}`, `[1,2]`, `{"amount":"1.001 USD"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		l := sim.NewLog()
		h, err := httpapi.NewLogHandler(l, httpapi.HandlerConfig{MaxBodyBytes: 1024})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/entries", strings.NewReader(body)))
		switch rec.Code {
		case 204:
		case 400, 409, 413:
			var eb httpapi.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Code == "" {
				t.Fatalf("%d without an error body: %q", rec.Code, rec.Body.String())
			}
		default:
			t.Fatalf("unexpected status %d for %q", rec.Code, body)
		}
		if stored := l.Stats().Stored; (rec.Code == 204) != (stored == 1) {
			t.Fatalf("status %d with %d stored", rec.Code, stored)
		}
	})
}
