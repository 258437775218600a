package gateway_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPaySucceedsOnceAndReplays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		r := w.gw.Pay(context.Background(), pay("order-1", "12.34 USD"))
		require.Equal(t, gateway.Succeeded, r.State, r.Reason)
		assert.NotEmpty(t, r.TransferID)
		assert.False(t, r.Replayed)

		again := w.gw.Pay(context.Background(), pay("order-1", "12.34 USD"))
		assert.Equal(t, gateway.Succeeded, again.State)
		assert.True(t, again.Replayed)
		assert.Equal(t, r.TransferID, again.TransferID)

		assert.Equal(t, 1, w.bank.Stats().DebitsApplied)
		assert.Equal(t, 1, w.bank.transfers(), "the replay never reached the bank")
		bal, _ := w.bank.Balance(bob)
		assert.Equal(t, payments.MustParseMoney("12.34 USD"), bal)
		synctest.Wait() // the replayer appends in the background
		require.Len(t, w.log.Entries(), 1)
		assert.Equal(t, "order-1", w.log.Entries()[0].PaymentID)
	})
}

func TestConflictingReuseIsDeclinedAndChargesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		require.Equal(t, gateway.Succeeded, w.gw.Pay(context.Background(), pay("order-1", "10.00 USD")).State)
		r := w.gw.Pay(context.Background(), pay("order-1", "99.00 USD"))
		assert.Equal(t, gateway.Declined, r.State)
		assert.ErrorIs(t, r.Err, payments.ErrIdempotencyConflict)
		assert.Equal(t, 1, w.bank.Stats().DebitsApplied)
		bal, _ := w.bank.Balance(bob)
		assert.Equal(t, payments.MustParseMoney("10.00 USD"), bal)
	})
}

func TestInvalidAndDeclinedPaymentsMoveNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		bad := payments.PaymentRequest{IdempotencyKey: "", Payer: "alice", Payee: bob, Amount: payments.MustParseMoney("-1.00 USD")}
		r := w.gw.Pay(context.Background(), bad)
		assert.Equal(t, gateway.Declined, r.State)
		var ve *payments.ValidationError
		require.ErrorAs(t, r.Err, &ve)
		assert.True(t, ve.Has("idempotency_key") && ve.Has("payer") && ve.Has("amount"), "every problem at once: %v", ve)

		poor := payments.PaymentRequest{IdempotencyKey: "order-2", Payer: carol, Payee: bob, Amount: payments.MustParseMoney("5.00 USD")}
		r = w.gw.Pay(context.Background(), poor)
		assert.Equal(t, gateway.Declined, r.State)
		assert.Contains(t, r.Reason, payments.DeclineInsufficientFunds)
		assert.Equal(t, 0, w.bank.Stats().DebitsApplied)
		assert.Equal(t, breaker.Closed, w.breaker(t, "bank").State(), "a decline is the bank working, not failing")
		assert.Empty(t, w.log.Entries())
	})
}

func (w *world) breaker(t *testing.T, name string) *breaker.Breaker {
	b, ok := w.gw.Registry().Get(name)
	require.True(t, ok)
	return b
}

func TestRefusedAttemptsAreRejectedThenTheBreakerOpens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		w.bank.set(refuse)
		r := w.gw.Pay(context.Background(), pay("order-1", "1.00 USD"))
		assert.Equal(t, gateway.Rejected, r.State, "no attempt was processed: safe to retry")
		assert.Equal(t, 3, w.bank.transfers(), "three attempts")

		// The breaker sits inside the retry: it judges each attempt, so the
		// second payment's second attempt is the fifth consecutive failure,
		// and its third attempt is refused by the open breaker.
		r = w.gw.Pay(context.Background(), pay("order-2", "1.00 USD"))
		assert.Equal(t, gateway.Rejected, r.State)
		assert.Equal(t, 5, w.bank.transfers(), "the open breaker refused the third attempt")
		require.Equal(t, breaker.Open, w.breaker(t, "bank").State(), "5 consecutive failed attempts")
		entered := w.bank.transfers()

		r = w.gw.Pay(context.Background(), pay("order-6", "1.00 USD"))
		assert.Equal(t, gateway.Rejected, r.State)
		assert.ErrorIs(t, r.Err, breaker.ErrOpen)
		assert.Greater(t, r.RetryAfter, time.Duration(0))
		assert.LessOrEqual(t, r.RetryAfter, 2*time.Second)
		assert.Equal(t, entered, w.bank.transfers(), "an open breaker keeps calls off the bank")
		assert.Equal(t, 0, w.bank.Stats().DebitsApplied)

		w.bank.set(pass)
		time.Sleep(2 * time.Second) // synctest: fake time
		r = w.gw.Pay(context.Background(), pay("order-1", "1.00 USD"))
		assert.Equal(t, gateway.Succeeded, r.State, "a rejected payment can be retried with the same key")
	})
}

func TestCallerCancellationBeforeAnyAttemptIsRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := w.gw.Pay(ctx, pay("order-1", "1.00 USD"))
		assert.Equal(t, gateway.Rejected, r.State, r.Reason)
		assert.Equal(t, breaker.Closed, w.breaker(t, "bank").State())
	})
}

func TestCrossCurrencyUsesTheQuoteThenTheLastGoodOneThenRejects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, func(c *gateway.Config) { c.FXPolicy.MaxStaleness = time.Minute })
		defer w.gw.Close()
		eur := func(key string) payments.PaymentRequest {
			p := pay(key, "10.00 EUR")
			p.TargetCurrency = payments.USD
			return p
		}
		r := w.gw.Pay(context.Background(), eur("order-1"))
		require.Equal(t, gateway.Succeeded, r.State, r.Reason)
		assert.Equal(t, payments.MustParseMoney("10.84 USD"), r.Settled, "10.00 × 1.0842 = 10.842, half-even")
		assert.False(t, r.QuoteFallback)

		w.fx.setDown(true)
		time.Sleep(30 * time.Second) // synctest: fake time
		r = w.gw.Pay(context.Background(), eur("order-2"))
		require.Equal(t, gateway.Succeeded, r.State, r.Reason)
		assert.True(t, r.QuoteFallback)
		assert.Equal(t, 30*time.Second, r.QuoteAge)

		time.Sleep(31 * time.Second) // synctest: fake time
		r = w.gw.Pay(context.Background(), eur("order-3"))
		assert.Equal(t, gateway.Rejected, r.State, "no fresh quote: not attempted")
		assert.Equal(t, 2, w.bank.Stats().DebitsApplied)

		synctest.Wait()
		entries := w.log.Entries()
		require.Len(t, entries, 2)
		assert.Equal(t, payments.MustParseMoney("10.00 EUR"), entries[0].Amount)
		assert.Equal(t, payments.MustParseMoney("10.84 USD"), entries[0].Credited)
	})
}

func TestConfigErrorsNameEveryBadField(t *testing.T) {
	_, err := gateway.New(gateway.Config{BankPolicy: gateway.BankPolicy{Attempts: -1, Timeout: -time.Second},
		LogPolicy: gateway.LogPolicy{BatchSize: payments.MaxLogBatch + 1}, ClaimTTL: -1})
	require.Error(t, err)
	got := map[string]string{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *resilience.ConfigError
		require.ErrorAs(t, e, &ce)
		assert.Equal(t, "gateway", ce.Component)
		got[ce.Field] = ce.Rule
	}
	assert.Equal(t, map[string]string{"Bank": "is required", "FX": "is required", "Log": "is required",
		"ClaimTTL": "must not be negative", "BankPolicy.Timeout": "must not be negative",
		"BankPolicy.Attempts": "must not be negative", "LogPolicy.BatchSize": "must be in [0, payments.MaxLogBatch]"}, got)
}

func TestStatusCountsPaymentsAndCloseIsIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		w.gw.Pay(context.Background(), pay("order-1", "1.00 USD"))
		s := w.gw.Status(context.Background())
		assert.Equal(t, map[gateway.State]int{gateway.Succeeded: 1}, s.Payments)
		assert.Equal(t, "gw-test", s.Instance)
		assert.Equal(t, store.DefaultMaxOutbox, s.OutboxCapacity)
		assert.Len(t, s.Breakers, 4, "bank, bank-status, fx, log")
		assert.Empty(t, s.Health, "the in-process fakes cannot be probed")
		w.gw.Close()
		w.gw.Close() // idempotent
	})
}

// hookBank runs the simulator, then a hook after the commit.
type hookBank struct {
	*flakyBank
	after func()
}

func (h *hookBank) Transfer(ctx context.Context, req payments.TransferRequest) (payments.Receipt, error) {
	rc, err := h.flakyBank.Transfer(ctx, req)
	if h.after != nil {
		h.after()
	}
	return rc, err
}

func TestPaymentSubmittedAgainWhileInFlightIsPendingNotRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		w := newWorld(t, func(c *gateway.Config) {
			c.Bank = &hookBank{flakyBank: c.Bank.(*flakyBank), after: func() { <-gate }}
		})
		defer w.gw.Close()
		done := make(chan gateway.Result)
		go func() { done <- w.gw.Pay(context.Background(), pay("order-1", "10.00 USD")) }()
		synctest.Wait() // committed at the bank, reply held
		r := w.gw.Pay(context.Background(), pay("order-1", "10.00 USD"))
		assert.Equal(t, gateway.Pending, r.State, "the money has moved: never tell the client it was not attempted")
		assert.Equal(t, 1, w.bank.Stats().DebitsApplied)
		close(gate)
		assert.Equal(t, gateway.Succeeded, (<-done).State)
	})
}

type refusingBank struct{ *flakyBank }

func (refusingBank) Transfer(context.Context, payments.TransferRequest) (payments.Receipt, error) {
	return payments.Receipt{}, fmt.Errorf("bank: 400: %w", payments.ErrInvalidRequest)
}

func TestInvalidRequestRefusedByTheBankIsDeclinedEvenWithTheDefaultNotProcessed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, func(c *gateway.Config) {
			c.NotProcessed = nil // the HTTP default, which counts a 4xx as "not processed"
			c.Bank = &refusingBank{flakyBank: c.Bank.(*flakyBank)}
		})
		defer w.gw.Close()
		r := w.gw.Pay(context.Background(), pay("order-1", "10.00 USD"))
		assert.Equal(t, gateway.Declined, r.State, "retrying an invalid request cannot help: %s", r.Reason)
	})
}

// recordingBank remembers the transfer requests it receives.
type recordingBank struct {
	*flakyBank
	mu   sync.Mutex
	reqs []payments.TransferRequest
}

func (b *recordingBank) Transfer(ctx context.Context, req payments.TransferRequest) (payments.Receipt, error) {
	b.mu.Lock()
	b.reqs = append(b.reqs, req)
	b.mu.Unlock()
	return b.flakyBank.Transfer(ctx, req)
}

func TestTransferNamesThePaymentItSettles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rb := &recordingBank{}
		w := newWorld(t, func(c *gateway.Config) {
			rb.flakyBank = c.Bank.(*flakyBank)
			c.Bank = rb
		})
		defer w.gw.Close()
		require.Equal(t, gateway.Succeeded, w.gw.Pay(context.Background(), pay("order-1", "1.00 USD")).State)
		require.Len(t, rb.reqs, 1)
		assert.Equal(t, "order-1", rb.reqs[0].PaymentID)
		assert.Equal(t, "order-1", rb.reqs[0].IdempotencyKey)
	})
}
