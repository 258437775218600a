package sim_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
)

const (
	alice payments.AccountID = "acct_alice0001"
	bob   payments.AccountID = "acct_bob000002"
)

func newBank(t testing.TB) *sim.Bank {
	b := sim.NewBank(sim.BankConfig{Clock: clock.NewMock()})
	require.NoError(t, b.Open(alice, payments.MustParseMoney("100.00 USD")))
	require.NoError(t, b.Open(bob, payments.MustParseMoney("0 USD")))
	return b
}

func transfer(key, amount string) payments.TransferRequest {
	return payments.TransferRequest{IdempotencyKey: key, From: alice, To: bob, Amount: payments.MustParseMoney(amount)}
}

// sameKeyFromManyGoroutines sends one request from n goroutines released
// together and returns the receipts.
func sameKeyFromManyGoroutines(t *testing.T, n int, send func() (payments.Receipt, error)) []payments.Receipt {
	t.Helper()
	start := make(chan struct{})
	receipts := make([]payments.Receipt, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			receipts[i], errs[i] = send()
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	return receipts
}

func checkExactlyOnce(t *testing.T, b *sim.Bank, receipts []payments.Receipt) {
	t.Helper()
	fresh := 0
	for _, r := range receipts {
		assert.Equal(t, receipts[0].TransferID, r.TransferID)
		if !r.Replayed {
			fresh++
		}
	}
	assert.Equal(t, 1, fresh, "exactly one receipt is the original")
	assert.Equal(t, 1, b.Stats().DebitsApplied)
	bal, _ := b.Balance(alice)
	assert.Equal(t, "90.00 USD", bal.String())
}

func TestBankSameKeyConcurrentlyDebitsOnce(t *testing.T) {
	b := newBank(t)
	receipts := sameKeyFromManyGoroutines(t, 32, func() (payments.Receipt, error) {
		return b.Transfer(context.Background(), transfer("dup-1", "10.00 USD"))
	})
	checkExactlyOnce(t, b, receipts)
	assert.Equal(t, 31, b.Stats().Replays)
}

func TestBankSameKeyConcurrentlyOverHTTPDebitsOnce(t *testing.T) {
	b := newBank(t)
	h := sim.BankHandler(b, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := httpapi.NewBankClient(srv.URL, httpapi.ClientConfig{})
	require.NoError(t, err)
	receipts := sameKeyFromManyGoroutines(t, 16, func() (payments.Receipt, error) {
		return c.Transfer(context.Background(), transfer("dup-1", "10.00 USD"))
	})
	checkExactlyOnce(t, b, receipts)
}

func TestBankRefusesKeyReuseWithDifferentRequest(t *testing.T) {
	b := newBank(t)
	ctx := context.Background()
	_, err := b.Transfer(ctx, transfer("k1", "10.00 USD"))
	require.NoError(t, err)
	for _, other := range []payments.TransferRequest{
		transfer("k1", "10.01 USD"),
		{IdempotencyKey: "k1", From: bob, To: alice, Amount: payments.MustParseMoney("10.00 USD")},
	} {
		_, err = b.Transfer(ctx, other)
		assert.ErrorIs(t, err, payments.ErrIdempotencyConflict)
	}
	assert.Equal(t, 1, b.Stats().DebitsApplied)
	assert.Equal(t, 2, b.Stats().Conflicts)
	bal, _ := b.Balance(alice)
	assert.Equal(t, "90.00 USD", bal.String())
}

func TestBankDeclinesAndRemembersTheAnswer(t *testing.T) {
	b := newBank(t)
	ctx := context.Background()
	cases := []struct {
		req    payments.TransferRequest
		reason string
	}{
		{transfer("k1", "100.01 USD"), payments.DeclineInsufficientFunds},
		{payments.TransferRequest{IdempotencyKey: "k2", From: alice, To: "acct_nobody0000", Amount: payments.MustParseMoney("1 USD")}, payments.DeclineUnknownAccount},
		{transfer("k3", "1 EUR"), payments.DeclineCurrency},
	}
	for _, c := range cases {
		_, err := b.Transfer(ctx, c.req)
		var de *payments.DeclineError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, c.reason, de.Reason)
		st, err := b.Status(ctx, c.req.IdempotencyKey)
		require.NoError(t, err)
		assert.Equal(t, payments.TransferDeclined, st.State)
	}
	require.NoError(t, b.Open(alice, payments.MustParseMoney("1000 USD")))
	_, err := b.Transfer(ctx, transfer("k1", "100.01 USD"))
	assert.ErrorIs(t, err, payments.ErrDeclined, "one key, one answer: a declined key stays declined")
	assert.Equal(t, 0, b.Stats().DebitsApplied)
	assert.Len(t, b.Transfers(), 3)
}

func TestBankRefusesBadInput(t *testing.T) {
	b := newBank(t)
	_, err := b.Transfer(context.Background(), payments.TransferRequest{})
	assert.ErrorIs(t, err, payments.ErrInvalidRequest)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = b.Transfer(ctx, transfer("k1", "1 USD"))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, b.Stats().DebitsApplied)
	assert.Error(t, b.Open("nope", payments.MustParseMoney("1 USD")))
	assert.Error(t, b.Open(alice, payments.MustParseMoney("-1 USD")))
}

func TestFXAndLog(t *testing.T) {
	mock := clock.NewMock()
	fx := sim.NewFX(sim.FXConfig{Clock: mock})
	require.NoError(t, fx.SetRate(payments.USD, payments.EUR, payments.MustParseRate("0.9")))
	assert.Error(t, fx.SetRate(payments.USD, payments.EUR, payments.Rate{}))
	q, err := fx.Quote(context.Background(), payments.USD, payments.EUR)
	require.NoError(t, err)
	assert.Equal(t, "0.9", q.Rate.String())
	assert.Equal(t, mock.Now(), q.AsOf)
	q, err = fx.Quote(context.Background(), payments.JPY, payments.JPY)
	require.NoError(t, err)
	assert.Equal(t, "1", q.Rate.String())
	_, err = fx.Quote(context.Background(), payments.EUR, payments.USD)
	assert.ErrorIs(t, err, payments.ErrNoRate)
	assert.Equal(t, 2, fx.Quotes())

	l := sim.NewLog(sim.LogConfig{})
	e := payments.Entry{PaymentID: "p1", Amount: payments.MustParseMoney("1 USD")}
	require.NoError(t, l.Append(context.Background(), e))
	require.NoError(t, l.Append(context.Background(), e))
	e2 := e
	e2.Amount = payments.MustParseMoney("2 USD")
	assert.ErrorIs(t, l.Append(context.Background(), e2), payments.ErrIdempotencyConflict)
	assert.ErrorIs(t, l.Append(context.Background(), payments.Entry{}), payments.ErrInvalidRequest)
	assert.Equal(t, []payments.Entry{e}, l.Entries())
}

func TestBankReportsAPaymentChargedUnderTwoKeys(t *testing.T) {
	b := newBank(t)
	ctx := context.Background()
	charge := func(key, payment, amount string) {
		req := transfer(key, amount)
		req.PaymentID = payment
		_, err := b.Transfer(ctx, req)
		require.NoError(t, err)
	}
	charge("pay-1", "pay-1", "10.00 USD")
	charge("pay-1", "pay-1", "10.00 USD") // a replay: the same key, no new debit
	charge("pay-2", "pay-2", "5.00 USD")
	assert.Empty(t, b.DoubleCharges(), "one debit per payment so far")

	charge("pay-1-retry", "pay-1", "10.00 USD") // the same payment under a new key
	charge("pay-1-again", "pay-1", "10.00 USD")
	charge("other", "", "1.00 USD") // no payment reference: never reported

	assert.Equal(t, []sim.DoubleCharge{{PaymentID: "pay-1", Keys: []string{"pay-1", "pay-1-retry", "pay-1-again"},
		TransferIDs: []string{"tr_00000001", "tr_00000003", "tr_00000004"}}}, b.DoubleCharges())
	assert.Equal(t, 2, b.Stats().DoubleCharges, "two debits too many")
	assert.Equal(t, 5, b.Stats().DebitsApplied)

	st, err := b.Status(ctx, "pay-1-retry")
	require.NoError(t, err)
	assert.Equal(t, "pay-1", st.PaymentID, "the status carries the payment reference")
	assert.Equal(t, "pay-1", b.Transfers()[2].PaymentID)

	declined := transfer("pay-2-big", "500.00 USD")
	declined.PaymentID = "pay-2"
	_, err = b.Transfer(ctx, declined)
	assert.ErrorIs(t, err, payments.ErrDeclined)
	assert.Len(t, b.DoubleCharges(), 1, "a declined attempt charged nothing")

	changed := transfer("pay-2", "5.00 USD")
	changed.PaymentID = "pay-3"
	_, err = b.Transfer(ctx, changed)
	assert.ErrorIs(t, err, payments.ErrIdempotencyConflict, "the payment reference is part of the request")
}

// The payment reference travels over HTTP.
func TestBankDoubleChargeOverHTTP(t *testing.T) {
	b := newBank(t)
	h := sim.BankHandler(b, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := httpapi.NewBankClient(srv.URL, httpapi.ClientConfig{})
	require.NoError(t, err)
	for _, key := range []string{"k1", "k2"} {
		req := transfer(key, "1.00 USD")
		req.PaymentID = "pay-9"
		_, err := c.Transfer(context.Background(), req)
		require.NoError(t, err)
	}
	require.Len(t, b.DoubleCharges(), 1)
	assert.Equal(t, []string{"k1", "k2"}, b.DoubleCharges()[0].Keys)
	st, err := c.Status(context.Background(), "k2")
	require.NoError(t, err)
	assert.Equal(t, "pay-9", st.PaymentID)
}
