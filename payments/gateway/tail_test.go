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
