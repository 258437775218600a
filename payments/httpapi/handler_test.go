package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/resilience"
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

	l := sim.NewLog(sim.LogConfig{})
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
	cases := []struct {
		name string
		make func() (http.Handler, error)
		want resilience.ConfigError
	}{
		{"nil bank", func() (http.Handler, error) { return httpapi.NewBankHandler(nil, httpapi.HandlerConfig{}) },
			resilience.ConfigError{Component: "httpapi", Name: "bank handler", Field: "Bank", Rule: "must not be nil"}},
		{"negative body", func() (http.Handler, error) {
			return httpapi.NewLogHandler(sim.NewLog(sim.LogConfig{}), httpapi.HandlerConfig{MaxBodyBytes: -1})
		}, resilience.ConfigError{Component: "httpapi", Name: "log handler", Field: "MaxBodyBytes", Rule: "must not be negative", Value: int64(-1)}},
		{"negative batch body", func() (http.Handler, error) {
			return httpapi.NewLogHandler(sim.NewLog(sim.LogConfig{}), httpapi.HandlerConfig{MaxBatchBodyBytes: -2})
		}, resilience.ConfigError{Component: "httpapi", Name: "log handler", Field: "MaxBatchBodyBytes", Rule: "must not be negative", Value: int64(-2)}},
	}
	for _, c := range cases {
		h, err := c.make()
		var ce *resilience.ConfigError
		require.ErrorAs(t, err, &ce, c.name)
		assert.Equal(t, c.want, *ce, c.name)
		assert.Nil(t, h, c.name)
	}
}

// TestBankOverLoopback runs the typed client against the simulated bank
// over real HTTP, through every answer the bank gives.
func TestBankOverLoopback(t *testing.T) {
	b := simBank(t)
	h := sim.BankHandler(b, nil)
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

// commitThenFail commits, then — as a server-side deadline would — sees
// its context cancelled and fails for another reason.
type commitThenFail struct {
	payments.Bank
	commits atomic.Int32
	cancel  context.CancelFunc
}

func (b *commitThenFail) Transfer(context.Context, payments.TransferRequest) (payments.Receipt, error) {
	b.commits.Add(1)
	b.cancel()
	return payments.Receipt{}, errors.New("writing the receipt failed")
}

// The handler once answered 503 ("not processed") for any error once the
// request's context was done, even after the service had committed.
func TestErrorAfterACommitIsNeverReportedNotProcessed(t *testing.T) {
	bank := &commitThenFail{}
	h, err := httpapi.NewBankHandler(bank, httpapi.HandlerConfig{})
	require.NoError(t, err)
	withDeadline := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context())
		bank.cancel = cancel
		h.ServeHTTP(w, r.WithContext(ctx))
	})
	client := newBank(t, withDeadline, httpapi.ClientConfig{})
	_, err = client.Transfer(context.Background(), transferReq("k1"))
	require.Error(t, err)
	assert.Equal(t, int32(1), bank.commits.Load())
	assert.False(t, httpapi.NotProcessed(err), "the transfer may have committed: %v", err)
	assert.ErrorIs(t, err, httpapi.ErrServerFailure)
}
