package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
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
		assert.Equal(t, 1, w.bank.entered, "the replay never reached the bank")
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
		assert.Equal(t, 3, w.bank.entered, "three attempts")

		// The breaker sits outside the retry: it judges each payment once,
		// whatever its attempts, so it takes 5 failed payments to open.
		for i := 2; i <= 5; i++ {
			r = w.gw.Pay(context.Background(), pay(fmt.Sprintf("order-%d", i), "1.00 USD"))
			assert.Equal(t, gateway.Rejected, r.State)
		}
		require.Equal(t, breaker.Open, w.breaker(t, "bank").State(), "5 consecutive failed payments")
		entered := w.bank.entered

		r = w.gw.Pay(context.Background(), pay("order-6", "1.00 USD"))
		assert.Equal(t, gateway.Rejected, r.State)
		assert.ErrorIs(t, r.Err, breaker.ErrOpen)
		assert.Equal(t, 2*time.Second, r.RetryAfter)
		assert.Equal(t, entered, w.bank.entered, "an open breaker keeps calls off the bank")
		assert.Equal(t, 0, w.bank.Stats().DebitsApplied)

		w.bank.set(pass)
		time.Sleep(2 * time.Second) // synctest: fake time
		r = w.gw.Pay(context.Background(), pay("order-1", "1.00 USD"))
		assert.Equal(t, gateway.Succeeded, r.State, "a rejected payment can be retried with the same key")
	})
}

func TestLostReplyIsPendingThenReconciledExactlyOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		w.bank.set(lose)
		r := w.gw.Pay(context.Background(), pay("order-1", "7.00 USD"))
		require.Equal(t, gateway.Pending, r.State, r.Reason)
		assert.Equal(t, 1, w.bank.Stats().DebitsApplied, "the first attempt committed; the retries replayed it")
		assert.Equal(t, 1, w.gw.Status().Pending)

		w.bank.set(pass)
		time.Sleep(time.Second) // reconciler ticks every 500ms (synctest: fake time)
		got, ok := w.gw.Lookup("order-1")
		require.True(t, ok)
		assert.Equal(t, gateway.Succeeded, got.State)
		assert.Contains(t, got.Reason, "reconciliation")
		assert.Equal(t, 1, w.bank.Stats().DebitsApplied)
		assert.Equal(t, 0, w.gw.Status().Pending)
		synctest.Wait()
		require.Len(t, w.log.Entries(), 1, "logged once the payment is known to have succeeded")

		again := w.gw.Pay(context.Background(), pay("order-1", "7.00 USD"))
		assert.Equal(t, gateway.Succeeded, again.State)
		assert.True(t, again.Replayed)
	})
}

func TestHangingBankTimesOutToPendingAndIsResolvedByResending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		w.bank.set(hang)
		start := time.Now()
		r := w.gw.Pay(context.Background(), pay("order-1", "3.00 USD"))
		require.Equal(t, gateway.Pending, r.State, "a timed-out attempt may have been processed")
		assert.GreaterOrEqual(t, time.Since(start), 6*time.Second, "three attempts of 2s each")
		assert.Equal(t, 0, w.bank.Stats().DebitsApplied)

		w.bank.set(pass)
		require.NoError(t, w.gw.Drain(context.Background()))
		got, _ := w.gw.Lookup("order-1")
		assert.Equal(t, gateway.Succeeded, got.State, "the bank never saw it, so it was re-sent under the same key")
		assert.Equal(t, 1, w.bank.Stats().DebitsApplied)
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

func TestLogOutageNeverFailsAPaymentAndReplaysInOrderExactlyOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		w.log.setDown(true)
		for _, k := range []string{"order-1", "order-2", "order-3"} {
			require.Equal(t, gateway.Succeeded, w.gw.Pay(context.Background(), pay(k, "1.00 USD")).State)
		}
		assert.Equal(t, 3, w.gw.Status().LogQueued)
		assert.Empty(t, w.log.Entries())

		w.log.setDown(false)
		time.Sleep(40 * time.Second) // the log breaker's open wait and the replay tick (synctest: fake time)
		synctest.Wait()
		assert.Equal(t, 0, w.gw.Status().LogQueued)
		entries := w.log.Entries()
		require.Len(t, entries, 3)
		for i, k := range []string{"order-1", "order-2", "order-3"} {
			assert.Equal(t, k, entries[i].PaymentID, "in order")
		}
		assert.Zero(t, w.log.Stats().Duplicates)
	})
}

func TestStatusAndConfigErrors(t *testing.T) {
	_, err := gateway.New(gateway.Config{BankPolicy: gateway.BankPolicy{Attempts: -1, Timeout: -time.Second}})
	require.Error(t, err)
	for _, want := range []string{"Bank is required", "FX is required", "Log is required",
		"BankPolicy.Timeout must not be negative, got -1s", "BankPolicy.Attempts must not be negative, got -1"} {
		assert.ErrorContains(t, err, want)
	}
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		w.gw.Pay(context.Background(), pay("order-1", "1.00 USD"))
		s := w.gw.Status()
		assert.Equal(t, map[gateway.State]int{gateway.Succeeded: 1}, s.Payments)
		assert.Len(t, s.Breakers, 3)
		assert.Empty(t, s.Health, "the in-process fakes cannot be probed")
		w.gw.Close()
		w.gw.Close() // idempotent
	})
}

func TestDrainGivesUpWithTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		w.bank.set(lose)
		require.Equal(t, gateway.Pending, w.gw.Pay(context.Background(), pay("order-1", "1.00 USD")).State)
		w.bank.set(refuse)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		err := w.gw.Drain(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorContains(t, err, "1 payments pending")
		assert.True(t, errors.Is(err, context.DeadlineExceeded) && !resilience.IsRejected(err))
	})
}
