package gateway_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/store"
)

// A gateway closed while a payment is in flight, with one payment pending
// and one log entry queued; a new gateway of the same Instance on the same
// store resolves both payments, replays the entry, and answers a settled
// payment from the store without reaching the bank.
func TestRestartResumesPendingPaymentsAndReplaysTheOutbox(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		ctx := context.Background()
		w.log.setDown(true)
		require.Equal(t, gateway.Succeeded, w.gw.Pay(ctx, pay("order-2", "2.00 USD")).State)
		w.bank.set(lose)
		require.Equal(t, gateway.Pending, w.gw.Pay(ctx, pay("order-1", "1.00 USD")).State)
		w.bank.set(hang)
		inFlight := make(chan gateway.Result)
		go func() { inFlight <- w.gw.Pay(ctx, pay("order-3", "3.00 USD")) }()
		synctest.Wait() // order-3 is in the bank's hands
		w.gw.Close()    // the process stops; order-3's call is left running

		w.bank.set(pass)
		w.log.setDown(false)
		restarted, err := gateway.New(w.cfg)
		require.NoError(t, err)
		defer restarted.Close()
		w.gw = restarted
		assert.Equal(t, gateway.Recovery{Instance: "gw-test", ExpiredClaims: 1, Pending: 2, Queued: 1}, restarted.Recovery())

		require.NoError(t, restarted.Drain(ctx))
		for _, k := range []string{"order-1", "order-2", "order-3"} {
			assert.Equal(t, gateway.Succeeded, w.lookup(t, k).State, k)
		}
		assert.Len(t, w.log.Entries(), 3, "the queued entry replayed, the resolved payments logged")

		before := w.bank.transfers()
		again := restarted.Pay(ctx, pay("order-2", "2.00 USD"))
		assert.Equal(t, gateway.Succeeded, again.State)
		assert.True(t, again.Replayed)
		assert.Equal(t, before, w.bank.transfers(), "answered from the store")

		late := <-inFlight // the old call ends; its claim was taken over
		assert.Equal(t, gateway.Pending, late.State, late.Reason)
		assert.ErrorIs(t, late.Err, store.ErrClaimLost)
		assert.Equal(t, gateway.Succeeded, w.lookup(t, "order-3").State, "the late call changes nothing")
		assert.Equal(t, 3, w.bank.Stats().DebitsApplied, "no double debit")
		checkLedgerAgainstBank(t, w, []string{"order-1", "order-2", "order-3"})
	})
}

// What a killed process leaves — a payment claimed and handed to the bank,
// log entries leased — is resumed at once by a gateway of the same
// Instance, and after ClaimTTL by any other.
func TestRestartAfterACrashResumesByInstanceOrAfterTheClaimsExpire(t *testing.T) {
	for _, tc := range []struct {
		name     string
		instance string
		wait     time.Duration
	}{
		{"same instance", "gw-dead", 0},
		{"new random instance", "", time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				var mem store.Store
				w := newWorld(t, func(c *gateway.Config) {
					mem, c.Instance = c.Store, tc.instance
					seedCrashedRun(t, mem, "gw-dead")
				})
				defer w.gw.Close()
				r := w.gw.Recovery()
				assert.Equal(t, tc.wait == 0, r.ExpiredClaims == 1, "%+v", r)
				if tc.wait > 0 {
					synctest.Wait()
					assert.Equal(t, gateway.Pending, w.lookup(t, "crashed-1").State, "the dead run's claim still holds")
					assert.Empty(t, w.log.Entries(), "the dead run's lease still holds")
					time.Sleep(tc.wait) // synctest: fake time
				}
				require.NoError(t, w.gw.Drain(ctx))
				assert.Equal(t, gateway.Succeeded, w.lookup(t, "crashed-1").State)
				assert.Len(t, w.log.Entries(), 3, "the two leased entries and the resolved payment's")
				assert.Equal(t, 1, w.bank.Stats().DebitsApplied)
			})
		})
	}
}

// seedCrashedRun leaves in s what gateway owner leaves when killed: a
// payment claimed and marked started (the bank never saw it), and two log
// entries leased by it.
func seedCrashedRun(t testingT, s store.Store, owner string) {
	ctx := context.Background()
	now := time.Now()
	seedSucceeded(t, s, owner, "logged", 2, now)
	_, err := s.Next(ctx, store.Lease{Owner: owner, Now: now, TTL: time.Minute}, 0)
	require.NoError(t, err)
	cr, err := s.Claim(ctx, pay("crashed-1", "4.00 USD"), store.Lease{Owner: owner, Now: now, TTL: time.Minute})
	require.NoError(t, err)
	require.NoError(t, s.MarkStarted(ctx, "crashed-1", cr.Record.Claim.Token, "bank"))
}

func TestFullStoreRejectsNewPaymentsBeforeTheBankIsCalled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, func(c *gateway.Config) {
			mem, err := store.NewMemory(store.Config{MaxOutbox: 2, FullRetryAfter: 3 * time.Second})
			require.NoError(t, err)
			c.Store = mem
		})
		defer w.gw.Close()
		w.log.setDown(true)
		for _, k := range []string{"order-1", "order-2"} {
			require.Equal(t, gateway.Succeeded, w.gw.Pay(ctx, pay(k, "1.00 USD")).State)
		}
		before := w.bank.transfers()
		r := w.gw.Pay(ctx, pay("order-3", "1.00 USD"))
		assert.Equal(t, gateway.Rejected, r.State, r.Reason)
		assert.ErrorIs(t, r.Err, store.ErrFull)
		assert.Equal(t, 3*time.Second, r.RetryAfter)
		assert.Equal(t, before, w.bank.transfers(), "the bank was never called")
		assert.Equal(t, 2, w.gw.Status(ctx).LogQueued, "nothing went to memory on the side")

		w.log.setDown(false)
		require.NoError(t, w.gw.Drain(ctx))
		assert.Equal(t, gateway.Succeeded, w.gw.Pay(ctx, pay("order-3", "1.00 USD")).State, "retried once the log caught up")
		require.NoError(t, w.gw.Drain(ctx))
		assert.Len(t, w.log.Entries(), 3)
	})
}

func TestFailingStoreRejectsNewPaymentsBeforeTheBankIsCalled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, nil)
		defer w.gw.Close()
		w.store.set("Claim", true)
		r := w.gw.Pay(ctx, pay("order-1", "1.00 USD"))
		assert.Equal(t, gateway.Rejected, r.State)
		assert.ErrorIs(t, r.Err, errStore)
		assert.Equal(t, time.Second, r.RetryAfter)
		assert.Zero(t, w.bank.transfers())
		_, err := w.gw.Lookup(ctx, "order-1")
		assert.ErrorIs(t, err, gateway.ErrUnknownPayment, "never kept anywhere else")

		w.store.set("Claim", false)
		assert.Equal(t, gateway.Succeeded, w.gw.Pay(ctx, pay("order-1", "1.00 USD")).State)
	})
}

// The bank moves the money, then the store cannot record it: the payment
// is pending (never reported succeeded without its durable log entry),
// and the reconciler records it once the store works again — at once when
// the claim could be handed back, after ClaimTTL when not even that could
// be written.
func TestOutcomeThatCannotBeRecordedIsPendingThenResolved(t *testing.T) {
	for _, tc := range []struct {
		name          string
		postponeFails bool
		wait          time.Duration
	}{{"claim handed back", false, 0}, {"claim expires", true, time.Minute}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				w := newWorld(t, nil)
				defer w.gw.Close()
				w.store.set("Finish", true)
				w.store.set("Postpone", tc.postponeFails)
				r := w.gw.Pay(ctx, pay("order-1", "5.00 USD"))
				assert.Equal(t, gateway.Pending, r.State)
				assert.Contains(t, r.Reason, "could not be recorded")
				assert.Equal(t, 1, w.bank.Stats().DebitsApplied, "the bank did move the money")
				assert.Equal(t, gateway.Pending, w.lookup(t, "order-1").State)

				w.store.set("Finish", false)
				w.store.set("Postpone", false)
				time.Sleep(tc.wait + time.Second) // synctest: fake time
				synctest.Wait()
				assert.Equal(t, gateway.Succeeded, w.lookup(t, "order-1").State)
				assert.Len(t, w.log.Entries(), 1)
				assert.Equal(t, 1, w.bank.Stats().DebitsApplied)
			})
		})
	}
}

func TestInvalidRequestIsNeverStored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		bad := pay("order-1", "1.00 USD")
		bad.Payee = "not-an-account"
		r := w.gw.Pay(context.Background(), bad)
		assert.Equal(t, gateway.Declined, r.State)
		assert.ErrorIs(t, r.Err, payments.ErrInvalidRequest)
		_, err := w.gw.Lookup(context.Background(), "order-1")
		assert.ErrorIs(t, err, gateway.ErrUnknownPayment)
	})
}

// damagedStore reports damage it found, as a store that set aside a
// corrupt record would.
type damagedStore struct{ store.Store }

func (d damagedStore) Stats(ctx context.Context) (store.Stats, error) {
	st, err := d.Store.Stats(ctx)
	st.Problems = append(st.Problems, "outbox record 3: checksum mismatch, set aside")
	return st, err
}

func TestDamageTheStoreReportsIsLoggedAndShownInTheStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logged bytes.Buffer
		w := newWorld(t, func(c *gateway.Config) {
			c.Store = damagedStore{c.Store}
			c.Logger = slog.New(slog.NewTextHandler(&logged, nil))
		})
		defer w.gw.Close()
		const problem = "outbox record 3: checksum mismatch, set aside"
		assert.Equal(t, []string{problem}, w.gw.Recovery().Problems)
		assert.Contains(t, logged.String(), "level=WARN")
		assert.Contains(t, logged.String(), problem)
		s := w.gw.Status(context.Background())
		assert.Equal(t, []string{problem}, s.StoreProblems)
		assert.Equal(t, []string{problem}, s.Recovery.Problems)
	})
}

func TestNewRefusesAStoreItCannotRead(t *testing.T) {
	mem, err := store.NewMemory(store.Config{})
	require.NoError(t, err)
	require.NoError(t, mem.Close())
	_, err = gateway.New(gateway.Config{Bank: &flakyBank{}, FX: &flakyFX{}, Log: &flakyLog{}, Store: mem})
	assert.ErrorIs(t, err, store.ErrClosed)
}
