package httpapi_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
)

func TestFXOverLoopback(t *testing.T) {
	mock := clock.NewMock()
	mock.Set(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	fx := sim.NewFX(sim.FXConfig{Clock: mock})
	require.NoError(t, fx.SetRate(payments.USD, payments.JPY, payments.MustParseRate("150.25")))
	require.NoError(t, fx.SetRate(payments.EUR, payments.GBP, payments.MustParseRate("6/7")))
	h := sim.FXHandler(fx, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := httpapi.NewFXClient(srv.URL, httpapi.ClientConfig{})
	require.NoError(t, err)
	ctx := context.Background()

	q, err := c.Quote(ctx, payments.USD, payments.JPY)
	require.NoError(t, err)
	assert.Equal(t, payments.MustParseRate("150.25"), q.Rate)
	assert.True(t, q.AsOf.Equal(mock.Now()))
	q, err = c.Quote(ctx, payments.EUR, payments.GBP)
	require.NoError(t, err)
	assert.Equal(t, "6/7", q.Rate.String(), "a rate with no finite decimal survives the wire exactly")

	_, err = c.Quote(ctx, payments.JPY, payments.USD)
	assert.ErrorIs(t, err, payments.ErrNoRate)
	assert.True(t, payments.IsPermanent(err))
	_, err = c.Quote(ctx, payments.Currency{}, payments.USD)
	assert.ErrorIs(t, err, payments.ErrUnknownCurrency)
	require.NoError(t, c.Health(ctx))
}

func TestFXClientRefusesAQuoteForOtherCurrencies(t *testing.T) {
	body := `{"from":"EUR","to":"USD","rate":"1.1","as_of":"2026-01-01T00:00:00Z"}`
	srv := httptest.NewServer(reply(200, body))
	defer srv.Close()
	c, err := httpapi.NewFXClient(srv.URL, httpapi.ClientConfig{})
	require.NoError(t, err)
	_, err = c.Quote(context.Background(), payments.USD, payments.EUR)
	assert.ErrorIs(t, err, httpapi.ErrMalformedResponse)
}

func TestLogOverLoopback(t *testing.T) {
	l := sim.NewLog(sim.LogConfig{})
	h := sim.LogHandler(l, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := httpapi.NewLogClient(srv.URL, httpapi.ClientConfig{})
	require.NoError(t, err)
	ctx := context.Background()

	e := payments.Entry{PaymentID: "pay-1", TransferID: "tr_1", Payer: "acct_alice0001", Payee: "acct_bob000002",
		Amount: payments.MustParseMoney("10.00 USD"), Credited: payments.MustParseMoney("1502 JPY"),
		At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	require.NoError(t, c.Append(ctx, e))
	require.NoError(t, c.Append(ctx, e), "appending the same entry again succeeds")
	changed := e
	changed.Amount = payments.MustParseMoney("10.01 USD")
	err = c.Append(ctx, changed)
	assert.ErrorIs(t, err, payments.ErrIdempotencyConflict)
	assert.ErrorIs(t, c.Append(ctx, payments.Entry{}), payments.ErrInvalidRequest)

	require.Len(t, l.Entries(), 1)
	assert.True(t, l.Entries()[0].Equal(e), "the entry survives the wire: %+v", l.Entries()[0])
	assert.Equal(t, sim.LogStats{Appends: 3, Stored: 1, Duplicates: 1, Conflicts: 1}, l.Stats())
	require.NoError(t, c.Health(ctx))
}
