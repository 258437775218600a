package gateway_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/store"
)

// gatedStore holds every Finish of a pending result until open is closed.
type gatedStore struct {
	store.Store
	open chan struct{}
}

func (g *gatedStore) Finish(ctx context.Context, key, token string, r store.Result, e *payments.Entry) error {
	if r.State == store.Pending {
		<-g.open
	}
	return g.Store.Finish(ctx, key, token, r, e)
}

// A payment whose outcome is unknown is answered pending without waiting
// for the store to record that outcome: MarkStarted already made it
// durably pending, and the write cannot change the answer. In a hang the
// breaker ends every attempt in flight at once, and each payment waited
// behind the others' writes. Close waits for the write.
func TestPendingOutcomeIsAnsweredBeforeItIsRecorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gs := &gatedStore{open: make(chan struct{})}
		w := newWorld(t, func(c *gateway.Config) {
			gs.Store = c.Store
			c.Store, c.Health.Disabled = gs, true
		})
		w.bank.set(lose)
		done := make(chan gateway.Result, 1)
		go func() { done <- w.gw.Pay(context.Background(), pay("order-lost", "5.00 USD")) }()
		var r gateway.Result
		select {
		case r = <-done:
		case <-time.After(time.Minute): // fake time: the attempts take seconds
			require.FailNow(t, "Pay waited for the store to record a pending outcome")
		}
		assert.Equal(t, gateway.Pending, r.State, r.Reason)
		again := w.lookup(t, "order-lost")
		assert.Equal(t, gateway.Pending, again.State, "Lookup agrees while the write is under way")

		closed := make(chan struct{})
		go func() { w.gw.Close(); close(closed) }()
		synctest.Wait()
		select {
		case <-closed:
			require.FailNow(t, "Close returned before the write it waits for")
		default:
		}
		close(gs.open)
		<-closed
		rec, err := w.mem.Lookup(context.Background(), "order-lost")
		require.NoError(t, err)
		assert.Equal(t, store.Pending, rec.Result.State)
		assert.Contains(t, rec.Result.Reason, "outcome unknown")
		assert.False(t, rec.Claim.Held(), "the claim ended, for the reconciler")
	})
}

// panickyStore panics on every Finish of a pending result.
type panickyStore struct{ store.Store }

func (p *panickyStore) Finish(ctx context.Context, key, token string, r store.Result, e *payments.Entry) error {
	if r.State == store.Pending {
		panic("store bug")
	}
	return p.Store.Finish(ctx, key, token, r, e)
}

// A store that panics while recording a pending outcome after Pay has
// answered has no caller to panic in: the process keeps running and the
// payment stays pending, its claim ended, for the reconciler.
func TestPanicRecordingAPendingOutcomeLaterLeavesItToTheReconciler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ps := &panickyStore{}
		w := newWorld(t, func(c *gateway.Config) {
			ps.Store = c.Store
			c.Store, c.Health.Disabled = ps, true
		})
		w.bank.set(lose)
		r := w.gw.Pay(context.Background(), pay("order-panic", "5.00 USD"))
		assert.Equal(t, gateway.Pending, r.State, r.Reason)
		w.gw.Close()
		rec, err := w.mem.Lookup(context.Background(), "order-panic")
		require.NoError(t, err)
		assert.Equal(t, store.Pending, rec.Result.State)
		assert.False(t, rec.Claim.Held(), "the claim ended, for the reconciler")
	})
}
