package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/store"
)

// serve sends one request to the gateway's handler.
func serve(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec
}

const payBody = `{"idempotency_key":"order-1","payer":"acct_alice001","payee":"acct_bob00001","amount":"12.34 USD"}`

func TestHandlerPaysAndLooksUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		h := w.gw.Handler()
		rec := serve(h, http.MethodPost, gateway.PathPayments, payBody)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		var r gateway.Result
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &r))
		assert.Equal(t, gateway.Succeeded, r.State)
		assert.Equal(t, payments.MustParseMoney("12.34 USD"), r.Settled)

		rec = serve(h, http.MethodPost, gateway.PathPayments, payBody)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Contains(t, rec.Body.String(), `"replayed":true`)

		rec = serve(h, http.MethodGet, gateway.PathPayments+"/order-1", "")
		require.Equal(t, http.StatusOK, rec.Code)
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &r))
		assert.Equal(t, gateway.Succeeded, r.State)
		assert.NotEmpty(t, r.TransferID)
		assert.Equal(t, 1, w.bank.Stats().DebitsApplied)
	})
}

func TestHandlerAnswersEachStateWithItsStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, func(c *gateway.Config) {
			mem, err := store.NewMemory(store.Config{MaxOutbox: 1, FullRetryAfter: 1500 * time.Millisecond})
			require.NoError(t, err)
			c.Store = mem
		})
		defer w.gw.Close()
		h := w.gw.Handler()
		w.bank.set(lose)
		rec := serve(h, http.MethodPost, gateway.PathPayments, payBody)
		assert.Equal(t, http.StatusAccepted, rec.Code, "pending: %s", rec.Body.String())

		rec = serve(h, http.MethodPost, gateway.PathPayments, strings.Replace(payBody, "order-1", "order-2", 1))
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "rejected: the store is full: %s", rec.Body.String())
		assert.Equal(t, "2", rec.Header().Get("Retry-After"), "1.5s rounded up")

		rec = serve(h, http.MethodPost, gateway.PathPayments, strings.Replace(payBody, "12.34", "99.99", 1))
		assert.Equal(t, http.StatusConflict, rec.Code, "the key stands for another payment: %s", rec.Body.String())

		rec = serve(h, http.MethodPost, gateway.PathPayments, strings.Replace(payBody, "acct_bob00001", "bob", 1))
		assert.Equal(t, http.StatusBadRequest, rec.Code, "invalid: %s", rec.Body.String())
		assert.Contains(t, rec.Body.String(), `"state":"declined"`)
	})
}

func TestHandlerRefusesBadBodiesMethodsAndPaths(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		h := w.gw.Handler()
		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			code                     string
		}{
			{"not JSON", http.MethodPost, gateway.PathPayments, "{", http.StatusBadRequest, httpapi.CodeMalformed},
			{"unknown field", http.MethodPost, gateway.PathPayments, `{"idempotency_key":"k","tip":1}`, http.StatusBadRequest, httpapi.CodeMalformed},
			{"trailing data", http.MethodPost, gateway.PathPayments, payBody + payBody, http.StatusBadRequest, httpapi.CodeMalformed},
			{"bad amount", http.MethodPost, gateway.PathPayments, strings.Replace(payBody, "12.34 USD", "12.34 XXX", 1), http.StatusBadRequest, httpapi.CodeMalformed},
			{"too large", http.MethodPost, gateway.PathPayments, `{"description":"` + strings.Repeat("x", gateway.MaxRequestBytes) + `"}`, http.StatusRequestEntityTooLarge, httpapi.CodeTooLarge},
			{"unknown key", http.MethodGet, gateway.PathPayments + "/order-9", "", http.StatusNotFound, httpapi.CodeNotFound},
			{"malformed key", http.MethodGet, gateway.PathPayments + "/%2E%2E", "", http.StatusNotFound, httpapi.CodeNotFound},
		} {
			rec := serve(h, tc.method, tc.path, tc.body)
			assert.Equal(t, tc.status, rec.Code, tc.name)
			var eb httpapi.ErrorBody
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &eb), tc.name)
			assert.Equal(t, tc.code, eb.Code, tc.name)
		}
		rec := serve(h, http.MethodDelete, gateway.PathPayments+"/order-1", "")
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
		assert.Contains(t, rec.Header().Get("Allow"), http.MethodGet)
		assert.Equal(t, http.StatusNotFound, serve(h, http.MethodGet, "/v2/anything", "").Code)
		assert.Equal(t, http.StatusOK, serve(h, http.MethodGet, gateway.PathHealth, "").Code)
		assert.Zero(t, w.bank.transfers(), "nothing was attempted")
	})
}

func TestStatusHandlerServesTheSnapshotAsJSON(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		w.gw.Pay(context.Background(), pay("order-1", "1.00 USD"))
		rec := serve(w.gw.Handler(), http.MethodGet, gateway.PathStatus, "")
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		var s gateway.Status
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &s))
		assert.Equal(t, 1, s.Payments[gateway.Succeeded])
		require.Len(t, s.Breakers, 4)
		assert.Equal(t, "bank", s.Breakers[0].Name)
		assert.Equal(t, "bank-status", s.Breakers[1].Name)
		assert.Equal(t, "bank", s.BankLimit.Name)
		assert.Equal(t, http.StatusMethodNotAllowed, serve(w.gw.StatusHandler(), http.MethodPost, "/", "").Code)
	})
}

func TestStatusShowsAFailingStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		require.NoError(t, w.mem.Close())
		s := w.gw.Status(context.Background())
		assert.Contains(t, s.StoreError, store.ErrClosed.Error())
		r := w.gw.Pay(context.Background(), pay("order-1", "1.00 USD"))
		assert.Equal(t, gateway.Rejected, r.State, "refused, never kept in memory instead")
		assert.ErrorIs(t, r.Err, store.ErrClosed)
	})
}

func TestResultJSONRoundTrips(t *testing.T) {
	q := payments.Quote{From: payments.EUR, To: payments.USD, Rate: payments.MustParseRate("1.0842"),
		AsOf: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	in := gateway.Result{PaymentID: "order-1", State: gateway.Rejected, Reason: "not attempted", Err: errors.New("boom"),
		RetryAfter: 1500 * time.Millisecond, Settled: payments.MustParseMoney("10.84 USD"), Quote: &q,
		QuoteFallback: true, QuoteAge: 30 * time.Second, Replayed: true, Latency: 2 * time.Millisecond,
		RefusedBy: []string{"primary", "secondary"}}
	data, err := json.Marshal(in)
	require.NoError(t, err)
	assert.JSONEq(t, `{"payment_id":"order-1","state":"rejected","reason":"not attempted","error":"boom",
		"retry_after":"1.5s","retry_after_seconds":1.5,"settled":"10.84 USD",
		"quote":{"from":"EUR","to":"USD","rate":"1.0842","as_of":"2026-01-02T03:04:05Z"},
		"quote_fallback":true,"quote_age":"30s","replayed":true,"latency":"2ms","refused_by":["primary","secondary"]}`, string(data))
	var out gateway.Result
	require.NoError(t, json.Unmarshal(data, &out))
	assert.EqualError(t, out.Err, "boom")
	out.Err, in.Err = nil, nil
	assert.Equal(t, in, out)

	at, err := json.Marshal(gateway.Result{PaymentID: "k", State: gateway.Succeeded, Bank: "secondary"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"payment_id":"k","state":"succeeded","reason":"","bank":"secondary"}`, string(at))
	require.NoError(t, json.Unmarshal(at, &out))
	assert.Equal(t, "secondary", out.Bank)

	empty, err := json.Marshal(gateway.Result{PaymentID: "k", State: gateway.Declined})
	require.NoError(t, err)
	assert.JSONEq(t, `{"payment_id":"k","state":"declined","reason":""}`, string(empty), "a result with no amount still encodes")
	assert.Error(t, json.Unmarshal([]byte(`{"latency":"soon"}`), &out))
}

func TestClientRefusesABadBaseURLAndReportsAnswersWithoutAResult(t *testing.T) {
	for _, u := range []string{"", "bank", "ftp://host", "http://"} {
		_, err := gateway.NewClient(u, nil)
		assert.Error(t, err, u)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "bad gateway", http.StatusBadGateway) })
	c, err := gateway.NewClient("http://gateway.invalid", &http.Client{Transport: httpapi.HandlerTransport(h)})
	require.NoError(t, err)
	_, err = c.Pay(context.Background(), pay("order-1", "1.00 USD"))
	assert.ErrorIs(t, err, gateway.ErrNoResult)
	assert.ErrorContains(t, err, "502")
}
