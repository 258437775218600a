package gateway_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// The tests of this file pin the mechanisms that keep the protected tail
// no worse than no protection in a fault window (issue 19); the drill's
// tail check measures the result.

// A payment whose first attempt hangs does not wait out a second attempt
// once the bank's breaker has opened meanwhile: its retry learns of it and
// gives up, and the payment is pending (the first attempt may have reached
// the bank).
func TestRetryStopsWhenTheBreakerOpensMeanwhile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		w.bank.set(hang)
		done := make(chan gateway.Result, 1)
		go func() { done <- w.gw.Pay(context.Background(), pay("order-hang", "5.00 USD")) }()
		synctest.Wait() // the first attempt hangs at the bank
		require.Equal(t, 1, w.bank.transfers())

		br, ok := w.gw.Registry().Get("bank")
		require.True(t, ok)
		br.ForceOpen()

		r := <-done
		assert.Equal(t, gateway.Pending, r.State, r.Reason)
		assert.Equal(t, 1, w.bank.transfers(), "no second attempt after the breaker opened")
	})
}

// The payment whose timed-out attempt opens the bank's breaker is answered
// when that attempt ends, not a backoff later: the retry looks at the
// breaker before it waits (backoff.RetryConfig.Admit). Without the look,
// it slept its backoff only to be refused, and every payment of a hang's
// first wave was that much slower than with no protection at all.
func TestTimedOutAttemptThatOpensTheBreakerEndsThePaymentAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, func(c *gateway.Config) {
			c.Health.Disabled = true
			c.BankPolicy.Breaker = breaker.Config{ConsecutiveFailures: 1}
			c.BankPolicy.Backoff = backoff.Constant(300 * time.Millisecond)
		})
		defer w.gw.Close()
		w.bank.set(hang)
		r := w.gw.Pay(context.Background(), pay("order-first-wave", "5.00 USD"))
		assert.Equal(t, gateway.Pending, r.State, r.Reason)
		assert.Equal(t, 2*time.Second, r.Latency, "the attempt's timeout, and no backoff after it")
		assert.Equal(t, 1, w.bank.transfers())
	})
}

// countingStore counts the outbox reads of the log's replayer.
type countingStore struct {
	store.Store
	next atomic.Int64
}

func (c *countingStore) Next(ctx context.Context, l store.Lease, limit int) ([]payments.Entry, error) {
	c.next.Add(1)
	return c.Store.Next(ctx, l, limit)
}

// While the log's breaker refuses, the replayer leaves the outbox alone:
// every succeeded payment wakes it, and each round used to read (and, on
// SQLite, lease) the whole backlog only to be refused — a store round trip
// per payment during a log outage, on the store the payments write to.
func TestLogOutageCostsPaymentsNoOutboxReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem, err := store.NewMemory(store.Config{})
		require.NoError(t, err)
		cs := &countingStore{Store: mem}
		w := newWorld(t, func(c *gateway.Config) { c.Store, c.Health.Disabled = cs, true })
		defer w.gw.Close()
		br, ok := w.gw.Registry().Get("log")
		require.True(t, ok)
		br.ForceOpen()
		synctest.Wait()
		before := cs.next.Load()
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() {
				r := w.gw.Pay(context.Background(), pay(fmt.Sprintf("order-%02d", i), "1.00 USD"))
				assert.Equal(t, gateway.Succeeded, r.State, r.Reason)
			})
		}
		wg.Wait()
		synctest.Wait()
		assert.Zero(t, cs.next.Load()-before, "no outbox read while the log's breaker refuses")
		assert.Equal(t, 50, w.gw.Status(context.Background()).LogQueued)

		br.Reset()
		time.Sleep(2 * time.Second) // the replay tick (fake time)
		synctest.Wait()
		assert.Equal(t, 0, w.gw.Status(context.Background()).LogQueued, "replayed once the breaker lets calls through")
	})
}

// A payment whose attempt is in flight when the bank's breaker opens ends
// then, pending, instead of waiting out its own timeout: in a hang, the
// first wave waits only as long as the breaker takes to see the failure.
// The reconciler settles it once the bank answers, with one debit.
func TestAttemptInFlightWhenTheBreakerOpensIsAbandoned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, func(c *gateway.Config) {
			c.Health.Disabled = true
			c.BankPolicy.Breaker = breaker.Config{ConsecutiveFailures: 1, OpenWait: 5 * time.Second}
		})
		defer w.gw.Close()
		w.bank.set(hang)
		first := make(chan gateway.Result, 1)
		go func() { first <- w.gw.Pay(context.Background(), pay("order-first", "5.00 USD")) }()
		time.Sleep(time.Second)
		second := w.gw.Pay(context.Background(), pay("order-second", "6.00 USD"))

		assert.Equal(t, 2*time.Second, (<-first).Latency, "the first waits its timeout: nothing knew better yet")
		assert.Equal(t, gateway.Pending, second.State, second.Reason)
		assert.Equal(t, time.Second, second.Latency, "ended when the first's timeout opened the breaker, not 2s")
		assert.Contains(t, second.Reason, "abandoned")

		w.bank.set(pass)
		require.NoError(t, w.gw.Drain(context.Background()))
		assert.Equal(t, gateway.Succeeded, w.lookup(t, "order-second").State)
		assert.Equal(t, 2, w.bank.Stats().DebitsApplied, "each payment debited once")
	})
}

// hangingFX hangs every quote while hung is set.
type hangingFX struct {
	*flakyFX
	hung atomic.Bool
}

func (h *hangingFX) Quote(ctx context.Context, from, to payments.Currency) (payments.Quote, error) {
	if h.hung.Load() {
		<-ctx.Done()
		return payments.Quote{}, ctx.Err()
	}
	return h.flakyFX.Quote(ctx, from, to)
}

// A quote in flight when the FX breaker opens ends then, and the pair's
// last good quote stands in for it.
func TestQuoteInFlightWhenTheFXBreakerOpensFallsBackAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var fx *hangingFX
		w := newWorld(t, func(c *gateway.Config) {
			fx = &hangingFX{flakyFX: c.FX.(*flakyFX)}
			c.FX, c.Health.Disabled = fx, true
			c.FXPolicy.Breaker = breaker.Config{ConsecutiveFailures: 1}
		})
		defer w.gw.Close()
		eur := func(key string) payments.PaymentRequest {
			p := pay(key, "10.00 EUR")
			p.TargetCurrency = payments.USD
			return p
		}
		require.Equal(t, gateway.Succeeded, w.gw.Pay(context.Background(), eur("order-fresh")).State)

		fx.hung.Store(true)
		first := make(chan gateway.Result, 1)
		go func() { first <- w.gw.Pay(context.Background(), eur("order-first")) }()
		time.Sleep(300 * time.Millisecond)
		second := w.gw.Pay(context.Background(), eur("order-second"))

		r := <-first
		assert.Equal(t, gateway.Succeeded, r.State, r.Reason)
		assert.Equal(t, time.Second, r.Latency, "the first waits the FX timeout, then the last good quote")
		assert.Equal(t, gateway.Succeeded, second.State, second.Reason)
		assert.True(t, second.QuoteFallback)
		assert.Equal(t, 700*time.Millisecond, second.Latency, "ended when the breaker opened, not a full timeout")
	})
}

// While every bank's breaker refuses, a payment is rejected before it is
// priced: no FX quote, no store write of a settlement, only to be refused
// at the bank's door — in a bank outage that work was the protected
// run's whole tail.
func TestPaymentNoBankWouldTakeIsRejectedBeforePricing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, func(c *gateway.Config) { c.Health.Disabled = true })
		defer w.gw.Close()
		br, ok := w.gw.Registry().Get("bank")
		require.True(t, ok)
		br.ForceOpen()
		w.fx.setDown(true) // a quote asked for would fail, with its own reason
		req := pay("order-eur", "10.00 EUR")
		req.TargetCurrency = payments.USD
		r := w.gw.Pay(context.Background(), req)
		assert.Equal(t, gateway.Rejected, r.State, r.Reason)
		assert.Contains(t, r.Reason, "circuit open", "refused by the breaker, not for want of a quote")
		assert.Equal(t, []string{"bank"}, r.RefusedBy)
		rec, err := w.mem.Lookup(context.Background(), "order-eur")
		require.NoError(t, err)
		_, quote, _ := rec.Settlement()
		assert.Nil(t, quote, "no settlement saved")
		assert.EqualValues(t, 1, w.gw.Status(context.Background()).Acquirers[0].Counts.Refused)

		br.Reset()
		w.fx.setDown(false)
		r = w.gw.Pay(context.Background(), req)
		assert.Equal(t, gateway.Succeeded, r.State, "a rejected payment is safe to send again: %s", r.Reason)
	})
}
