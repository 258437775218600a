package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/resilience/breaker"
)

func TestLogOutageNeverFailsAPaymentAndReplaysExactlyOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		w.log.setDown(true)
		for _, k := range []string{"order-1", "order-2", "order-3"} {
			require.Equal(t, gateway.Succeeded, w.gw.Pay(context.Background(), pay(k, "1.00 USD")).State)
		}
		assert.Equal(t, 3, w.gw.Status(context.Background()).LogQueued)
		assert.Empty(t, w.log.Entries())

		w.log.setDown(false)
		time.Sleep(40 * time.Second) // the log breaker's open wait and the replay tick (synctest: fake time)
		synctest.Wait()
		assert.Equal(t, 0, w.gw.Status(context.Background()).LogQueued)
		entries := w.log.Entries()
		require.Len(t, entries, 3)
		var ids []string
		for _, e := range entries {
			ids = append(ids, e.PaymentID)
		}
		// Not necessarily in queue order: entries a refused round leased
		// may go out after a later one (see logPath).
		assert.ElementsMatch(t, []string{"order-1", "order-2", "order-3"}, ids)
		assert.Zero(t, w.log.Stats().Duplicates)
	})
}

// blockingLog holds every batch until released.
type blockingLog struct {
	*flakyLog
	gate chan struct{}
}

func (b *blockingLog) AppendBatch(ctx context.Context, entries []payments.Entry) ([]error, error) {
	select {
	case <-b.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b.flakyLog.AppendBatch(ctx, entries)
}

func TestSlowLogNeitherDelaysPaymentsNorLetsDrainReturnEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bl := &blockingLog{gate: make(chan struct{})}
		w := newWorld(t, func(c *gateway.Config) {
			bl.flakyLog = c.Log.(*flakyLog)
			c.Log = bl
			c.LogPolicy.Timeout = time.Hour
		})
		defer w.gw.Close()
		r := w.gw.Pay(context.Background(), pay("order-1", "10.00 USD"))
		require.Equal(t, gateway.Succeeded, r.State)
		assert.Zero(t, r.Latency, "Pay never waits for the log")

		drained := make(chan error)
		go func() { drained <- w.gw.Drain(context.Background()) }()
		time.Sleep(10 * time.Second) // synctest: fake time
		select {
		case <-drained:
			t.Fatal("Drain returned while the entry was still owed to the log")
		default:
		}
		close(bl.gate)
		require.NoError(t, <-drained)
		assert.Len(t, w.log.Entries(), 1)
	})
}

// pickyLog answers entry by entry: those in refuse are refused for good (a
// conflict), those in fail fail every time with a retryable error.
type pickyLog struct {
	*flakyLog
	refuse, fail map[string]bool
}

func (p pickyLog) AppendBatch(ctx context.Context, entries []payments.Entry) ([]error, error) {
	return payments.AppendEach(ctx, func(ctx context.Context, e payments.Entry) error {
		switch {
		case p.refuse[e.PaymentID]:
			return fmt.Errorf("log: %w", payments.ErrIdempotencyConflict)
		case p.fail[e.PaymentID]:
			return errors.New("log: 503 for this entry")
		}
		return p.flakyLog.Append(ctx, e)
	}, entries)
}

func TestEntryRefusedForGoodIsSetAsideAndShownByItsIDsOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, func(c *gateway.Config) {
			c.Log = pickyLog{flakyLog: c.Log.(*flakyLog), refuse: map[string]bool{"order-1": true}}
		})
		defer w.gw.Close()
		for _, k := range []string{"order-1", "order-2"} {
			require.Equal(t, gateway.Succeeded, w.gw.Pay(context.Background(), pay(k, "1.23 USD")).State)
		}
		require.NoError(t, w.gw.Drain(context.Background()))
		entries := w.log.Entries()
		require.Len(t, entries, 1)
		assert.Equal(t, "order-2", entries[0].PaymentID, "the entry behind the refused one got through")

		s := w.gw.Status(context.Background())
		require.Len(t, s.LogRefused, 1)
		assert.Equal(t, 1, s.LogRefusedCount)
		assert.Equal(t, "order-1", s.LogRefused[0].PaymentID)
		assert.NotEmpty(t, s.LogRefused[0].TransferID)
		assert.Contains(t, s.LogRefused[0].Reason, "idempotency")
		data, err := json.Marshal(s)
		require.NoError(t, err)
		for _, private := range []string{string(alice), string(bob), "1.23"} {
			assert.NotContains(t, string(data), private, "a status page shows no payer, payee or amount")
		}
	})
}

func TestOneFailingEntryNeverStallsTheOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, func(c *gateway.Config) {
			c.Log = pickyLog{flakyLog: c.Log.(*flakyLog), fail: map[string]bool{"order-1": true}}
		})
		defer w.gw.Close()
		for i := 1; i <= 5; i++ {
			require.Equal(t, gateway.Succeeded, w.gw.Pay(context.Background(), pay(fmt.Sprintf("order-%d", i), "1.00 USD")).State)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.Error(t, w.gw.Drain(ctx), "order-1 is never stored")
		assert.Len(t, w.log.Entries(), 4, "every entry but the failing one")
		s := w.gw.Status(context.Background())
		assert.Equal(t, 1, s.LogQueued, "the failing entry stays queued, to be sent again")
		assert.Zero(t, s.LogRefusedCount, "a retryable failure is never set aside")
	})
}

// countingLog records how many batches are in flight at once; each takes
// delay.
type countingLog struct {
	*flakyLog
	delay          time.Duration
	mu             sync.Mutex
	now, most, all int
}

func (c *countingLog) AppendBatch(ctx context.Context, entries []payments.Entry) ([]error, error) {
	c.mu.Lock()
	c.now++
	c.all++
	c.most = max(c.most, c.now)
	c.mu.Unlock()
	defer func() { c.mu.Lock(); c.now--; c.mu.Unlock() }()
	if err := sleep(ctx, c.delay); err != nil {
		return nil, err
	}
	return c.flakyLog.AppendBatch(ctx, entries)
}

func TestBacklogIsReplayedInBoundedPipelinedBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl := &countingLog{delay: 5 * time.Millisecond}
		w := newWorld(t, func(c *gateway.Config) {
			cl.flakyLog = c.Log.(*flakyLog)
			seedSucceeded(t, c.Store, "gw-earlier", "seed", 2100, time.Now())
			c.Log = cl
		})
		defer w.gw.Close()
		require.NoError(t, w.gw.Drain(context.Background()))
		assert.Len(t, w.log.Entries(), 2100)
		assert.Zero(t, w.log.Stats().Duplicates, "each entry sent once")
		assert.Equal(t, []int{500, 500, 500, 500, 100}, w.log.batchSizes(), "batches of payments.MaxLogBatch, oldest first")
		assert.Equal(t, 4, cl.most, "LogPolicy.MaxInFlight batches in flight at once")
	})
}

func TestBatchFailingWholeCountsOnceAgainstTheBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, func(c *gateway.Config) {
			c.LogPolicy.Breaker = breaker.Config{ConsecutiveFailures: 3, OpenWait: time.Hour}
			seedSucceeded(t, c.Store, "gw-earlier", "seed", 1000, time.Now())
			c.Log.(*flakyLog).setDown(true)
		})
		defer w.gw.Close()
		synctest.Wait() // the first round, at start
		b := w.breaker(t, "log").Snapshot()
		assert.Equal(t, breaker.Open, b.State)
		batches := len(w.log.batchSizes())
		assert.GreaterOrEqual(t, batches, 3)
		assert.Equal(t, uint64(batches), b.Failures, "one failure per batch, not per entry")
		assert.Equal(t, 1000, w.gw.Status(context.Background()).LogQueued)
	})
}

func TestBatchWhoseEveryEntryFailsIsOneFailureOfTheLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, func(c *gateway.Config) {
			c.LogPolicy.Breaker = breaker.Config{ConsecutiveFailures: 2, OpenWait: time.Hour}
			require.NoError(t, c.Log.(*flakyLog).SetFaults(sim.LogFaults{ErrorRate: sim.Always}))
			seedSucceeded(t, c.Store, "gw-earlier", "seed", 10, time.Now())
		})
		defer w.gw.Close()
		synctest.Wait()
		b := w.breaker(t, "log").Snapshot()
		assert.Equal(t, breaker.Open, b.State, "a log refusing every entry is down, though each batch call succeeds")
		assert.Equal(t, uint64(2), b.Failures)
		assert.Equal(t, 10, w.gw.Status(context.Background()).LogQueued)
	})
}
