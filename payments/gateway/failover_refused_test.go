package gateway_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/gateway"
)

// storedRefusals is the banks the ledger says refused the payment.
func storedRefusals(t testingT, w *world, key string) []string {
	t.Helper()
	rec, err := w.mem.Lookup(context.Background(), key)
	require.NoError(t, err)
	return rec.Refused
}

// Every bank that refuses a payment is recorded in the ledger before the
// next one is offered it, in routing order; the one that took it is the
// record's Bank. A payment every bank refuses lists them all.
func TestLedgerListsRefusingBanksInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, banks := newBanksWorld(t, []string{"a", "b", "c"}, nil)
		defer w.gw.Close()
		banks["a"].set(refuse)
		banks["b"].set(refuse)
		r := w.gw.Pay(context.Background(), pay("order-1", "2.00 USD"))
		require.Equal(t, gateway.Succeeded, r.State, r.Reason)
		assert.Equal(t, "c", r.Bank)
		assert.Equal(t, []string{"a", "b"}, r.RefusedBy)
		assert.Equal(t, []string{"a", "b"}, storedRefusals(t, w, "order-1"))
		assert.Equal(t, "c", storedBank(t, w, "order-1"))

		banks["c"].set(refuse)
		r = w.gw.Pay(context.Background(), pay("order-2", "2.00 USD"))
		require.Equal(t, gateway.Rejected, r.State, r.Reason)
		assert.Equal(t, []string{"a", "b", "c"}, r.RefusedBy)
		assert.Equal(t, []string{"a", "b", "c"}, storedRefusals(t, w, "order-2"))
		assert.Equal(t, []string{"a", "b", "c"}, w.lookup(t, "order-2").RefusedBy)
	})
}

// A refusal the store fails to record stops the failover: the next bank is
// never offered the payment, which is answered rejected with the store's
// error, as when the store fails to record a handover.
func TestRefusalTheStoreCannotRecordStopsFailover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, banks := newBanksWorld(t, twoBanks, nil)
		defer w.gw.Close()
		banks["primary"].set(refuse)
		w.store.set("MarkRefused", true)
		r := w.gw.Pay(context.Background(), pay("order-1", "2.00 USD"))
		require.Equal(t, gateway.Rejected, r.State, r.Reason)
		assert.ErrorIs(t, r.Err, errStore)
		assert.Contains(t, r.Reason, "cannot record payments now")
		assert.Equal(t, []string{"primary"}, r.RefusedBy)
		assert.Positive(t, banks["primary"].transfers())
		assert.Zero(t, banks["secondary"].transfers(), "never offered to the next bank")
		assert.Empty(t, storedRefusals(t, w, "order-1"))
		assert.Equal(t, gateway.Rejected, w.lookup(t, "order-1").State)
	})
}

// A retry of a payment answered from the ledger tells which banks refused
// it, as the first answer did.
func TestRetryShowsRefusedByFromTheLedger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, banks := newBanksWorld(t, twoBanks, nil)
		defer w.gw.Close()
		banks["primary"].set(refuse)
		first := w.gw.Pay(context.Background(), pay("order-1", "2.00 USD"))
		require.Equal(t, gateway.Succeeded, first.State, first.Reason)

		again := w.gw.Pay(context.Background(), pay("order-1", "2.00 USD"))
		require.True(t, again.Replayed)
		assert.Equal(t, gateway.Succeeded, again.State)
		assert.Equal(t, "secondary", again.Bank)
		assert.Equal(t, []string{"primary"}, again.RefusedBy)
		assert.Equal(t, []string{"primary"}, w.lookup(t, "order-1").RefusedBy)
		assert.Equal(t, []string{"secondary"}, debitedAt(banks, "order-1"))
	})
}

// When every bank's breaker refuses a payment before it is priced, each
// bank is recorded as refusing it, in routing order; when the store fails
// to record that, the answer says so (rejected either way).
func TestRefusedUpFrontRecordsEveryBank(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, banks := newBanksWorld(t, twoBanks, nil)
		defer w.gw.Close()
		for _, name := range twoBanks {
			b, ok := w.gw.Registry().Get(name)
			require.True(t, ok, name)
			b.ForceOpen()
		}
		r := w.gw.Pay(context.Background(), pay("order-1", "2.00 USD"))
		require.Equal(t, gateway.Rejected, r.State, r.Reason)
		assert.Equal(t, twoBanks, r.RefusedBy)
		assert.Equal(t, twoBanks, storedRefusals(t, w, "order-1"))

		w.store.set("MarkRefused", true)
		r = w.gw.Pay(context.Background(), pay("order-2", "2.00 USD"))
		require.Equal(t, gateway.Rejected, r.State, r.Reason)
		assert.ErrorIs(t, r.Err, errStore)
		assert.Equal(t, []string{"primary"}, r.RefusedBy, "stopped at the first refusal it could not record")
		assert.Empty(t, storedRefusals(t, w, "order-2"))
		assert.Zero(t, banks["primary"].transfers()+banks["secondary"].transfers())
	})
}

// A payment the bank's open breaker keeps off the bank counts as that
// breaker's refusal (Snapshot.Rejected, "not permitted" on the dashboard
// and in Prometheus), though it is refused at admission, before the retry
// and the breaker's own guard: otherwise an outage that refused hundreds
// of payments showed a handful of refusals.
func TestRefusalAtAdmissionCountsOnTheBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, func(c *gateway.Config) { c.Health.Disabled = true })
		defer w.gw.Close()
		br, ok := w.gw.Registry().Get("bank")
		require.True(t, ok)
		br.ForceOpen()
		for i := range 3 {
			r := w.gw.Pay(context.Background(), pay(fmt.Sprintf("order-%d", i), "1.00 USD"))
			require.Equal(t, gateway.Rejected, r.State, r.Reason)
		}
		assert.EqualValues(t, 3, br.Snapshot().Rejected)
		br.Reset()
		r := w.gw.Pay(context.Background(), pay("order-after", "1.00 USD"))
		assert.Equal(t, gateway.Succeeded, r.State, r.Reason)
		assert.EqualValues(t, 3, br.Snapshot().Rejected, "a call let through is no refusal")
	})
}
