package sim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
)

func TestStartServesAllThree(t *testing.T) {
	s, err := sim.Start(sim.ServicesConfig{Seed: 42})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Bank.Open(alice, payments.MustParseMoney("100 USD")))
	require.NoError(t, s.Bank.Open(bob, payments.MustParseMoney("0 USD")))
	require.NoError(t, s.FX.SetRate(payments.USD, payments.EUR, payments.MustParseRate("0.9")))
	ctx := context.Background()

	bank, err := httpapi.NewBankClient(s.BankURL, httpapi.ClientConfig{})
	require.NoError(t, err)
	fx, err := httpapi.NewFXClient(s.FXURL, httpapi.ClientConfig{})
	require.NoError(t, err)
	log, err := httpapi.NewLogClient(s.LogURL, httpapi.ClientConfig{})
	require.NoError(t, err)

	r, err := bank.Transfer(ctx, transfer("p1", "10 USD"))
	require.NoError(t, err)
	q, err := fx.Quote(ctx, payments.USD, payments.EUR)
	require.NoError(t, err)
	require.NoError(t, log.Append(ctx, payments.Entry{PaymentID: "p1", TransferID: r.TransferID, Amount: r.Amount}))
	assert.Equal(t, "0.9", q.Rate.String())
	assert.Equal(t, 1, s.Log.Stats().Stored)

	require.NoError(t, s.LogFaults.Set(sim.Faults{ErrorRate: sim.Always, RetryAfter: time.Second}))
	err = log.Append(ctx, payments.Entry{PaymentID: "p2", Amount: r.Amount})
	assert.ErrorIs(t, err, httpapi.ErrOverloaded)
	assert.Equal(t, 1, s.LogFaults.Stats().Errors)
	assert.Equal(t, 0, s.BankFaults.Stats().Errors, "each service has its own injector")
}

// Close does not hang on a request held by injected latency.
func TestCloseCutsDelayedRequests(t *testing.T) {
	s, err := sim.Start(sim.ServicesConfig{})
	require.NoError(t, err)
	require.NoError(t, s.FXFaults.Set(sim.Faults{Latency: sim.Latency{Fixed: time.Hour}}))
	fx, err := httpapi.NewFXClient(s.FXURL, httpapi.ClientConfig{})
	require.NoError(t, err)
	done := make(chan error)
	go func() {
		_, err := fx.Quote(context.Background(), payments.USD, payments.USD)
		done <- err
	}()
	for s.FXFaults.Stats().Delayed == 0 {
		runtime.Gosched() // until the request is held by the latency; no real-time sleep
	}
	s.Close()
	assert.ErrorIs(t, <-done, httpapi.ErrTransport)
	assert.Equal(t, 1, s.FXFaults.Stats().Cancelled)
}

// In-process services need no socket: clients reach them through
// Services.Transport, and everything else behaves as over loopback.
func TestStartInProcess(t *testing.T) {
	s, err := sim.Start(sim.ServicesConfig{InProcess: true, Seed: 1})
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, "http://bank.sim.invalid", s.BankURL)
	require.NoError(t, s.Bank.Open(alice, payments.MustParseMoney("100 USD")))
	require.NoError(t, s.Bank.Open(bob, payments.MustParseMoney("0 USD")))
	cfg := httpapi.ClientConfig{HTTPClient: &http.Client{Transport: s.Transport()}}
	bank, err := httpapi.NewBankClient(s.BankURL, cfg)
	require.NoError(t, err)
	log, err := httpapi.NewLogClient(s.LogURL, cfg)
	require.NoError(t, err)
	fx, err := httpapi.NewFXClient(s.FXURL, cfg)
	require.NoError(t, err)
	ctx := context.Background()

	r, err := bank.Transfer(ctx, transfer("p1", "10 USD"))
	require.NoError(t, err)
	results, err := log.AppendBatch(ctx, []payments.Entry{{PaymentID: "p1", TransferID: r.TransferID, Amount: r.Amount}})
	require.NoError(t, err)
	assert.Equal(t, []error{nil}, results)
	_, err = fx.Quote(ctx, payments.USD, payments.USD)
	require.NoError(t, err)
	require.NoError(t, s.BankFaults.Set(sim.Faults{ErrorRate: sim.Always}))
	_, err = bank.Transfer(ctx, transfer("p2", "10 USD"))
	assert.ErrorIs(t, err, httpapi.ErrOverloaded)

	other, err := httpapi.NewBankClient("http://elsewhere.invalid", cfg)
	require.NoError(t, err)
	_, err = other.Status(ctx, "p1")
	assert.ErrorIs(t, err, httpapi.ErrTransport)
	assert.ErrorContains(t, err, `sim: no simulated service at "elsewhere.invalid"`)
}

// The loopback services can be reached in-process too.
func TestTransportReachesLoopbackServices(t *testing.T) {
	s, err := sim.Start(sim.ServicesConfig{})
	require.NoError(t, err)
	defer s.Close()
	fx, err := httpapi.NewFXClient(s.FXURL, httpapi.ClientConfig{HTTPClient: &http.Client{Transport: s.Transport()}})
	require.NoError(t, err)
	require.NoError(t, fx.Health(context.Background()))
	assert.Equal(t, 0, s.FX.Quotes())
}

// A handler over a nil service answers 500 with the reason; it never
// panics.
func TestHandlersOfANilServiceAnswer500(t *testing.T) {
	for name, h := range map[string]http.Handler{
		"bank": sim.BankHandler(nil, nil), "fx": sim.FXHandler(nil, nil), "log": sim.LogHandler(nil, nil),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", httpapi.PathHealth, nil))
		assert.Equal(t, http.StatusInternalServerError, rec.Code, name)
		assert.Contains(t, rec.Body.String(), "has a nil", name)
	}
}
