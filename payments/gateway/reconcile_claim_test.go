package gateway_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
)

// seedPending leaves n payments in s as a dead gateway leaves them: handed
// to "bank" (which never saw them) under claims long expired, so that the
// reconciler takes them all at once.
func seedPending(t testingT, s store.Store, n int) []string {
	t.Helper()
	ctx := context.Background()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("backlog-%03d", i)
		cr, err := s.Claim(ctx, pay(keys[i], "1.00 USD"),
			store.Lease{Owner: "gw-dead", Now: time.Now().Add(-time.Hour), TTL: time.Minute})
		require.NoError(t, err)
		require.NoError(t, s.MarkStarted(ctx, keys[i], cr.Record.Claim.Token, "bank"))
	}
	return keys
}

// breakerLog records every state change of a breaker into a state that
// refuses calls.
type breakerLog struct {
	mu     sync.Mutex
	opened []string
}

func (b *breakerLog) listener() resilience.Listener {
	return resilience.OnKinds(func(e resilience.Event) {
		if e.Policy == "breaker" && e.To != "closed" {
			b.mu.Lock()
			b.opened = append(b.opened, e.Name+" → "+e.To)
			b.mu.Unlock()
		}
	}, resilience.EventStateChange)
}

func (b *breakerLog) get() []string { b.mu.Lock(); defer b.mu.Unlock(); return b.opened }

// A backlog of pending payments five times the reconciler's workers, each
// check (a status lookup, then the transfer sent again) taking 2s of a
// bank answering every call in 1s, within its 2s timeout, and ClaimTTL
// the least New accepts (5.5s here, one check's worst case). Each payment
// is claimed as a worker starts on it, so no claim's end cuts a call:
// every transfer reaches the bank once, and neither breaker opens. (Claimed
// 64 at a time, the later checks started with little of their claim left,
// its deadline cut their transfers, and "bank" opened on a working bank:
// payments/dst's finding reconciler-batch-outlives-its-claim.)
func TestReconcilerClaimsEachPaymentAsItsCheckStarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var keys []string
		var breakers breakerLog
		w := newWorld(t, func(c *gateway.Config) {
			keys = seedPending(t, c.Store, 40)
			c.Bank.(*flakyBank).delay = time.Second
			c.BankPolicy.Attempts = 1
			c.Listeners = resilience.Listeners{breakers.listener()}
			floor, err := c.MinClaimTTL()
			require.NoError(t, err)
			require.Equal(t, 5500*time.Millisecond, floor, "a status lookup (2s) + a transfer's worst case (2s + 1s + 500ms)")
			c.ClaimTTL = floor
		})
		defer w.gw.Close()
		require.NoError(t, w.gw.Drain(context.Background()))
		for _, k := range keys {
			assert.Equal(t, gateway.Succeeded, w.lookup(t, k).State, k)
		}
		assert.Equal(t, len(keys), w.bank.transfers(), "each transfer sent once, none cut by its claim")
		assert.Equal(t, len(keys), w.bank.Stats().DebitsApplied)
		assert.Empty(t, breakers.get(), "the bank answered every call in time")
	})
}

// shortClaims is a store whose reconciler claims end after d, however long
// the lease: a claim ending in the middle of a check.
type shortClaims struct {
	store.Store
	d time.Duration
}

func (s shortClaims) DuePending(ctx context.Context, l store.Lease, dueBy time.Time, limit int) ([]store.Record, error) {
	recs, err := s.Store.DuePending(ctx, l, dueBy, limit)
	for i := range recs {
		recs[i].Claim.Expires = l.Now.Add(s.d)
	}
	return recs, err
}

// A claim's end cuts the gateway's own work, not the bank: the calls it
// cuts are ignored by the bank's breakers, as a caller going away is,
// even with breakers that open on the first failure. The payments stay
// pending, and are resolved once the bank answers within the claims.
func TestClaimEndingIsNotTheBanksFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var keys []string
		var breakers breakerLog
		w := newWorld(t, func(c *gateway.Config) {
			keys = seedPending(t, c.Store, 3)
			c.Store = shortClaims{Store: c.Store, d: 500 * time.Millisecond}
			c.Bank.(*flakyBank).delay = time.Second
			c.BankPolicy.Breaker.ConsecutiveFailures = 1
			c.BankPolicy.StatusBreaker.ConsecutiveFailures = 1
			c.Listeners = resilience.Listeners{breakers.listener()}
		})
		defer w.gw.Close()
		time.Sleep(3 * time.Second) // synctest: fake time; the reconciler tries every 500ms
		synctest.Wait()
		for _, k := range keys {
			assert.Equal(t, gateway.Pending, w.lookup(t, k).State, k)
		}
		assert.Zero(t, w.bank.Stats().DebitsApplied, "every lookup cut at 500ms")
		assert.Empty(t, breakers.get(), "a claim's end is not the bank failing")

		w.bank.mu.Lock()
		w.bank.delay = 0
		w.bank.mu.Unlock()
		require.NoError(t, w.gw.Drain(context.Background()))
		for _, k := range keys {
			assert.Equal(t, gateway.Succeeded, w.lookup(t, k).State, k)
		}
		assert.Empty(t, breakers.get())
	})
}
