package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
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
		`{"idempotency_key":"k3","from":"acct_alice0001","to":"acct_bob000002","amount":"1.00 USD","payment_id":"pay-3"}`,
		`{"idempotency_key":"k3","from":"acct_alice0001","to":"acct_bob000002","amount":"1.00 USD","payment_id":"../x"}`,
		`{"idempotency_key":"k4","from":"acct_4111111111111111","to":"acct_bob000002","amount":"1.00 USD"}`,
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
		l := sim.NewLog(sim.LogConfig{})
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

// FuzzLogBatchHandler: arbitrary bodies to the batch endpoint never panic;
// they are refused whole (400, 413) with an error body and store nothing,
// or answered 200 with one well-formed result per entry, the log holding
// exactly the entries answered 204.
func FuzzLogBatchHandler(f *testing.F) {
	good := `{"payment_id":"p1","transfer_id":"t","payer":"acct_alice0001","payee":"acct_bob000002","amount":"1.00 USD","at":"2026-01-01T00:00:00Z"}`
	for _, s := range []string{
		`{"entries":[` + good + `]}`, `{"entries":[` + good + `,` + good + `]}`, `{"entries":[]}`, `{"entries":null}`,
		`{"entries":[{"payment_id":"p1","amount":"1.00 XYZ"},{},null,1,"x",[]]}`, `{"entries":[` + good + `],"entries":[]}`,
		`{"entries":[{"payment_id":"p1","amount":"1.00 USD","x":1}]}`, `{}`, `[]`, `{"entries":[`, ``, `{"entries":[]} x`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		l := sim.NewLog(sim.LogConfig{})
		h, err := httpapi.NewLogHandler(l, httpapi.HandlerConfig{MaxBatchBodyBytes: 4096})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", httpapi.PathEntriesBatch, strings.NewReader(body)))
		stored := l.Stats().Stored + l.Stats().Duplicates
		switch rec.Code {
		case 200:
			var br httpapi.BatchResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &br); err != nil || br.Results == nil {
				t.Fatalf("200 without results: %q", rec.Body.String())
			}
			ok := 0
			for _, r := range br.Results {
				switch {
				case r.Status == 204 && r.Error == nil:
					ok++
				case (r.Status == 400 || r.Status == 409) && r.Error != nil && r.Error.Code != "":
				default:
					t.Fatalf("bad result %+v in %q", r, rec.Body.String())
				}
			}
			if ok != stored {
				t.Fatalf("%d entries answered 204, %d stored or duplicates", ok, stored)
			}
		case 400, 413:
			var eb httpapi.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Code == "" {
				t.Fatalf("%d without an error body: %q", rec.Code, rec.Body.String())
			}
			if stored != 0 {
				t.Fatalf("refused whole, yet %d stored", stored)
			}
		default:
			t.Fatalf("unexpected status %d for %q", rec.Code, body)
		}
	})
}

// FuzzLogBatchAnswer: whatever the log answers to a batch, AppendBatch
// never panics and returns either a whole error and no results, or one
// result per entry.
func FuzzLogBatchAnswer(f *testing.F) {
	for _, s := range []string{`{"results":[{"status":204},{"status":409,"error":{"code":"idempotency_conflict"}}]}`,
		`{"results":[{"status":204}]}`, `{"results":[{"status":503,"retry_after":99999999999},{"status":-1}]}`,
		`{"results":null}`, `null`, `{"results":[{"status":204},{"status":400,"error":null}]}`, `{"results":[{}, {}]}`} {
		f.Add(200, s)
		f.Add(503, s)
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 100 || status > 999 {
			status = 200
		}
		hc := &http.Client{Transport: httpapi.HandlerTransport(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}))}
		c, err := httpapi.NewLogClient("http://log.test", httpapi.ClientConfig{HTTPClient: hc})
		if err != nil {
			t.Fatal(err)
		}
		entries := []payments.Entry{
			{PaymentID: "p1", Amount: payments.MustParseMoney("1 USD")},
			{PaymentID: "p2", Amount: payments.MustParseMoney("2 USD")},
		}
		results, err := c.AppendBatch(context.Background(), entries)
		switch {
		case err != nil && results != nil:
			t.Fatalf("a whole error with results: %v, %v", err, results)
		case err == nil && len(results) != len(entries):
			t.Fatalf("%d results for %d entries", len(results), len(entries))
		}
	})
}
