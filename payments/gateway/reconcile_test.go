package gateway_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/resilience"
)

func TestLostReplyIsPendingThenReconciledExactlyOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		w.bank.set(lose)
		r := w.gw.Pay(context.Background(), pay("order-1", "7.00 USD"))
		require.Equal(t, gateway.Pending, r.State, r.Reason)
		assert.Equal(t, 1, w.bank.Stats().DebitsApplied, "the first attempt committed; the retries replayed it")
		assert.Equal(t, 1, w.gw.Status(context.Background()).Pending)

		w.bank.set(pass)
		time.Sleep(time.Second) // reconciler ticks every 500ms (synctest: fake time)
		got := w.lookup(t, "order-1")
		assert.Equal(t, gateway.Succeeded, got.State)
		assert.Contains(t, got.Reason, "reconciliation")
		assert.Equal(t, 1, w.bank.Stats().DebitsApplied)
		assert.Equal(t, 0, w.gw.Status(context.Background()).Pending)
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
		got := w.lookup(t, "order-1")
		assert.Equal(t, gateway.Succeeded, got.State, "the bank never saw it, so it was re-sent under the same key")
		assert.Equal(t, 1, w.bank.Stats().DebitsApplied)
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

func TestPanicInTheBankClientLeavesThePaymentPendingNotWedged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var once sync.Once
		w := newWorld(t, func(c *gateway.Config) {
			hb := &hookBank{flakyBank: c.Bank.(*flakyBank)}
			hb.after = func() { once.Do(func() { panic("client bug") }) }
			c.Bank = hb
		})
		defer w.gw.Close()
		assert.PanicsWithValue(t, "client bug", func() { w.gw.Pay(context.Background(), pay("order-1", "10.00 USD")) })
		assert.Equal(t, gateway.Pending, w.lookup(t, "order-1").State, "the money may have moved")
		require.NoError(t, w.gw.Drain(context.Background()))
		assert.Equal(t, gateway.Succeeded, w.lookup(t, "order-1").State)
		assert.Len(t, w.log.Entries(), 1)
		assert.Equal(t, 1, w.bank.Stats().DebitsApplied)
	})
}
