package gateway_test

import (
	"context"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/outbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Log entries queued in a durable outbox survive a crash of the gateway:
// a new gateway over the reopened file delivers each exactly once.
func TestDurableOutboxSurvivesACrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.outbox")
	synctest.Test(t, func(t *testing.T) {
		ob, err := outbox.OpenFile(path, outbox.FileConfig{})
		require.NoError(t, err)
		w := newWorld(t, func(c *gateway.Config) { c.Outbox = ob })
		w.log.setDown(true)
		for _, k := range []string{"order-1", "order-2", "order-3"} {
			require.Equal(t, gateway.Succeeded, w.gw.Pay(context.Background(), pay(k, "1.00 USD")).State)
		}
		require.Equal(t, 3, w.gw.Status().LogQueued)
		w.gw.Close() // the process dies: the outbox file is abandoned, never closed

		reopened, err := outbox.OpenFile(path, outbox.FileConfig{})
		require.NoError(t, err)
		defer reopened.Close()
		require.Equal(t, 3, reopened.Len(), "every queued entry is on disk")
		restarted, err := gateway.New(gateway.Config{Bank: w.bank, FX: w.fx, Log: w.log, Outbox: reopened})
		require.NoError(t, err)
		defer restarted.Close()

		w.log.setDown(false)
		time.Sleep(2 * time.Second) // a replay tick (synctest: fake time)
		synctest.Wait()
		entries := w.log.Entries()
		require.Len(t, entries, 3)
		for i, k := range []string{"order-1", "order-2", "order-3"} {
			assert.Equal(t, k, entries[i].PaymentID, "in order")
		}
		assert.Zero(t, reopened.Len())
		assert.Zero(t, w.log.Stats().Duplicates)
		require.NoError(t, ob.Close())
	})
}
