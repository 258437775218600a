package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/outbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Regression tests for the findings of the first review.

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

func TestPanicInTheBankClientLeavesThePaymentPendingNotWedged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var once sync.Once
		var hb *hookBank
		w := newWorld(t, func(c *gateway.Config) {
			hb = &hookBank{flakyBank: c.Bank.(*flakyBank)}
			hb.after = func() { once.Do(func() { panic("client bug") }) }
			c.Bank = hb
		})
		defer w.gw.Close()
		assert.PanicsWithValue(t, "client bug", func() { w.gw.Pay(context.Background(), pay("order-1", "10.00 USD")) })
		r, ok := w.gw.Lookup("order-1")
		require.True(t, ok, "the payment is known")
		assert.Equal(t, gateway.Pending, r.State, "the money may have moved")
		require.NoError(t, w.gw.Drain(context.Background()))
		r, _ = w.gw.Lookup("order-1")
		assert.Equal(t, gateway.Succeeded, r.State)
		assert.Len(t, w.log.Entries(), 1)
		assert.Equal(t, 1, w.bank.Stats().DebitsApplied)
	})
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

// blockingLog holds every Append until released.
type blockingLog struct {
	*flakyLog
	gate chan struct{}
}

func (b *blockingLog) Append(ctx context.Context, e payments.Entry) error {
	select {
	case <-b.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return b.flakyLog.Append(ctx, e)
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

// failingOutbox refuses its first Put as a full disk would.
type failingOutbox struct {
	outbox.Outbox
	mu    sync.Mutex
	fails int
}

func (f *failingOutbox) Put(e payments.Entry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails > 0 {
		f.fails--
		return errors.New("outbox: append: no space left on device")
	}
	return f.Outbox.Put(e)
}

func TestOutboxErrorNeverDropsAnEntry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem, err := outbox.NewMemory(outbox.Config{})
		require.NoError(t, err)
		w := newWorld(t, func(c *gateway.Config) { c.Outbox = &failingOutbox{Outbox: mem, fails: 1} })
		defer w.gw.Close()
		require.Equal(t, gateway.Succeeded, w.gw.Pay(context.Background(), pay("order-1", "10.00 USD")).State)
		require.NoError(t, w.gw.Drain(context.Background()))
		assert.Len(t, w.log.Entries(), 1)
	})
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

type refusingBank struct{ *flakyBank }

func (refusingBank) Transfer(context.Context, payments.TransferRequest) (payments.Receipt, error) {
	return payments.Receipt{}, fmt.Errorf("bank: 400: %w", payments.ErrInvalidRequest)
}

// conflictingLog refuses one payment ID for good.
type conflictingLog struct{ *flakyLog }

func (c conflictingLog) Append(ctx context.Context, e payments.Entry) error {
	if e.PaymentID == "order-1" {
		return fmt.Errorf("log: %w", payments.ErrIdempotencyConflict)
	}
	return c.flakyLog.Append(ctx, e)
}

func TestEntryRefusedForGoodIsSetAsideNotBlockingTheQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, func(c *gateway.Config) { c.Log = conflictingLog{c.Log.(*flakyLog)} })
		defer w.gw.Close()
		for _, k := range []string{"order-1", "order-2"} {
			require.Equal(t, gateway.Succeeded, w.gw.Pay(context.Background(), pay(k, "1.00 USD")).State)
		}
		require.NoError(t, w.gw.Drain(context.Background()))
		entries := w.log.Entries()
		require.Len(t, entries, 1)
		assert.Equal(t, "order-2", entries[0].PaymentID, "the entry behind the refused one got through")
		refused := w.gw.Status().LogRefused
		require.Len(t, refused, 1)
		assert.Equal(t, "order-1", refused[0].Entry.PaymentID)
	})
}

func TestStatusHandlerServesTheSnapshotAsJSON(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		w.gw.Pay(context.Background(), pay("order-1", "1.00 USD"))
		rec := httptest.NewRecorder()
		w.gw.StatusHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		var s gateway.Status
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &s))
		assert.Equal(t, 1, s.Payments[gateway.Succeeded])
		require.Len(t, s.Breakers, 3)
		assert.Equal(t, "bank", s.Breakers[0].Name)
		assert.Equal(t, "bank", s.BankLimit.Name)
	})
}
