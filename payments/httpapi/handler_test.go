package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
)

func simBank(t testing.TB) *sim.Bank {
	b := sim.NewBank(sim.BankConfig{Clock: clock.NewMock()})
	require.NoError(t, b.Open("acct_alice0001", payments.MustParseMoney("100.00 USD")))
	require.NoError(t, b.Open("acct_bob000002", payments.MustParseMoney("0 USD")))
	return b
}

func serve(t testing.TB, h http.Handler, method, target, body string) (*httptest.ResponseRecorder, httpapi.ErrorBody) {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var eb httpapi.ErrorBody
	if rec.Code >= 400 {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &eb), "error bodies are JSON: %q", rec.Body.String())
	}
	return rec, eb
}

func TestBankHandlerRefusesBadInput(t *testing.T) {
	b := simBank(t)
	h, err := httpapi.NewBankHandler(b, httpapi.HandlerConfig{MaxBodyBytes: 512})
	require.NoError(t, err)
	good := `{"idempotency_key":"k1","from":"acct_alice0001","to":"acct_bob000002","amount":"1.00 USD"}`
	cases := []struct {
		name, method, target, body string
		status                     int
		code                       string
	}{
		{"not json", "POST", "/v1/transfers", `hello`, 400, httpapi.CodeMalformed},
		{"truncated", "POST", "/v1/transfers", good[:30], 400, httpapi.CodeMalformed},
		{"unknown field", "POST", "/v1/transfers", strings.Replace(good, `"from"`, `"extra":1,"from"`, 1), 400, httpapi.CodeMalformed},
		{"trailing data", "POST", "/v1/transfers", good + `{}`, 400, httpapi.CodeMalformed},
		{"number amount", "POST", "/v1/transfers", strings.Replace(good, `"1.00 USD"`, `1.0`, 1), 400, httpapi.CodeMalformed},
		{"unknown currency", "POST", "/v1/transfers", strings.Replace(good, "USD", "XYZ", 1), 400, httpapi.CodeCurrency},
		{"negative amount", "POST", "/v1/transfers", strings.Replace(good, "1.00", "-1.00", 1), 400, httpapi.CodeInvalid},
		{"too large", "POST", "/v1/transfers", `{"idempotency_key":"` + strings.Repeat("k", 600) + `"}`, 413, httpapi.CodeTooLarge},
		{"bad status key", "GET", "/v1/transfers/bad%20key", "", 400, httpapi.CodeInvalid},
		{"unknown status key", "GET", "/v1/transfers/nope", "", 404, httpapi.CodeNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, eb := serve(t, h, c.method, c.target, c.body)
			assert.Equal(t, c.status, rec.Code)
			assert.Equal(t, c.code, eb.Code)
		})
	}
	assert.Equal(t, 0, b.Stats().DebitsApplied, "bad input must move nothing")
}

func TestFXAndLogHandlers(t *testing.T) {
	fx := sim.NewFX(sim.FXConfig{Clock: clock.NewMock()})
	require.NoError(t, fx.SetRate(payments.USD, payments.EUR, payments.MustParseRate("0.9215")))
	fh, err := httpapi.NewFXHandler(fx, httpapi.HandlerConfig{})
	require.NoError(t, err)
	rec, _ := serve(t, fh, "GET", "/v1/quotes?from=USD&to=EUR", "")
	assert.Equal(t, 200, rec.Code)
	assert.Contains(t, rec.Body.String(), `"rate":"0.9215"`)
	_, eb := serve(t, fh, "GET", "/v1/quotes?from=USD&to=usd", "")
	assert.Equal(t, httpapi.CodeCurrency, eb.Code)
	rec, eb = serve(t, fh, "GET", "/v1/quotes?from=USD&to=JPY", "")
	assert.Equal(t, 422, rec.Code)
	assert.Equal(t, httpapi.CodeNoRate, eb.Code)

	l := sim.NewLog()
	lh, err := httpapi.NewLogHandler(l, httpapi.HandlerConfig{})
	require.NoError(t, err)
	entry := `{"payment_id":"p1","transfer_id":"tr_1","payer":"acct_alice0001","payee":"acct_bob000002","amount":"1.00 USD","at":"2026-01-01T00:00:00Z"}`
	for range 2 {
		rec, _ = serve(t, lh, "POST", "/v1/entries", entry)
		assert.Equal(t, 204, rec.Code)
	}
	rec, eb = serve(t, lh, "POST", "/v1/entries", strings.Replace(entry, "1.00", "2.00", 1))
	assert.Equal(t, 409, rec.Code)
	assert.Equal(t, httpapi.CodeConflict, eb.Code)
	assert.Equal(t, sim.LogStats{Appends: 3, Stored: 1, Duplicates: 1, Conflicts: 1}, l.Stats())
}

func TestNewHandlersRefuseBadConfig(t *testing.T) {
	_, err := httpapi.NewBankHandler(nil, httpapi.HandlerConfig{})
	assert.ErrorContains(t, err, "httpapi: NewBankHandler needs a non-nil Bank")
	_, err = httpapi.NewLogHandler(sim.NewLog(), httpapi.HandlerConfig{MaxBodyBytes: -1})
	assert.ErrorContains(t, err, "httpapi: MaxBodyBytes must be >= 0")
}

// TestBankOverLoopback runs the typed client against the simulated bank
// over real HTTP, through every answer the bank gives.
func TestBankOverLoopback(t *testing.T) {
	b := simBank(t)
	h, err := sim.BankHandler(b, nil)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := httpapi.NewBankClient(srv.URL, httpapi.ClientConfig{})
	require.NoError(t, err)
	ctx := context.Background()

	r1, err := c.Transfer(ctx, transferReq("pay-1"))
	require.NoError(t, err)
	assert.False(t, r1.Replayed)
	r2, err := c.Transfer(ctx, transferReq("pay-1"))
	require.NoError(t, err)
	assert.True(t, r2.Replayed)
	assert.Equal(t, r1.TransferID, r2.TransferID)

	other := transferReq("pay-1")
	other.Amount = payments.MustParseMoney("11.00 USD")
	_, err = c.Transfer(ctx, other)
	assert.ErrorIs(t, err, payments.ErrIdempotencyConflict)
	assert.True(t, payments.IsPermanent(err))

	big := transferReq("pay-2")
	big.Amount = payments.MustParseMoney("1000.00 USD")
	_, err = c.Transfer(ctx, big)
	assert.ErrorIs(t, err, payments.ErrDeclined)

	st, err := c.Status(ctx, "pay-1")
	require.NoError(t, err)
	assert.Equal(t, payments.TransferCompleted, st.State)
	st, err = c.Status(ctx, "pay-2")
	require.NoError(t, err)
	assert.Equal(t, payments.TransferDeclined, st.State)
	assert.Equal(t, payments.DeclineInsufficientFunds, st.DeclineReason)
	_, err = c.Status(ctx, "pay-3")
	assert.ErrorIs(t, err, payments.ErrNotFound)
	require.NoError(t, c.Health(ctx))

	bal, _ := b.Balance("acct_alice0001")
	assert.Equal(t, "90.00 USD", bal.String())
	assert.Equal(t, 1, b.Stats().DebitsApplied)
}
