package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// checkLedgerAgainstBank is the invariant that makes a gateway safe to
// build a business on: a payment is Succeeded exactly when the bank moved
// its money, Declined and Rejected ones moved nothing, only Pending ones
// may go either way, no payment is debited twice, and the log holds only
// succeeded payments, each once.
func checkLedgerAgainstBank(t require.TestingT, w *world, keys []string) {
	committed := 0
	for _, k := range keys {
		st, err := w.bank.Bank.Status(context.Background(), k)
		moved := err == nil && st.State == payments.TransferCompleted
		if moved {
			committed++
		}
		r, err := w.gw.Lookup(context.Background(), k)
		if errors.Is(err, gateway.ErrUnknownPayment) {
			require.False(t, moved, "%s: money moved for a payment the gateway has no result for", k)
			continue
		}
		require.NoError(t, err)
		switch r.State {
		case gateway.Succeeded:
			require.True(t, moved, "%s: succeeded but the bank has no transfer", k)
		case gateway.Declined, gateway.Rejected:
			require.False(t, moved, "%s: %s but the bank moved the money", k, r.State)
		case gateway.Pending:
		default:
			require.Fail(t, "indefinite state", "%s: %q", k, r.State)
		}
	}
	// The simulator applies at most one debit per key by construction, so
	// the checks that can catch the gateway are these: every transfer the
	// bank completed belongs to a known payment and moved exactly the
	// amount the gateway settled it for (a retry that re-quoted a
	// conversion would show here), and every log entry describes its
	// payment's transfer.
	require.Equal(t, committed, w.bank.Stats().DebitsApplied)
	for _, st := range w.bank.Bank.Transfers() {
		if st.State != payments.TransferCompleted {
			continue
		}
		r, err := w.gw.Lookup(context.Background(), st.IdempotencyKey)
		require.NoError(t, err, "the bank moved money for %s, which the gateway does not know", st.IdempotencyKey)
		require.Equal(t, r.Settled, st.Amount, "%s: the bank moved another amount than settled", st.IdempotencyKey)
	}
	for _, e := range w.log.Entries() {
		r, err := w.gw.Lookup(context.Background(), e.PaymentID)
		require.NoError(t, err)
		require.Equal(t, gateway.Succeeded, r.State, "%s logged but not succeeded", e.PaymentID)
		require.Equal(t, r.TransferID, e.TransferID, "%s: logged with another transfer", e.PaymentID)
		if r.Quote == nil {
			require.Equal(t, r.Settled, e.Amount, "%s: logged with another amount", e.PaymentID)
		}
	}
}

// storeRefused reports whether r ended on a failing store: rejected when
// the payment could not be claimed (nothing known, nothing attempted),
// pending when the bank's answer could not be recorded — never succeeded
// or declined.
func storeRefused(t require.TestingT, r gateway.Result) bool {
	if !errors.Is(r.Err, errStore) {
		return false
	}
	require.Contains(t, []gateway.State{gateway.Rejected, gateway.Pending}, r.State, r.Reason)
	return true
}

func TestGatewayModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		rapid.SyncTest(rt, func(rt *rapid.T) {
			w := newWorld(rt, nil)
			defer func() { w.gw.Close() }() // the last gateway, after restarts
			var keys []string
			amounts := map[string]string{}
			t := rt
			t.Repeat(map[string]func(*rapid.T){
				"pay new": func(t *rapid.T) {
					k := fmt.Sprintf("order-%d", len(keys)+1)
					amt := fmt.Sprintf("%d.%02d USD", rapid.IntRange(0, 300).Draw(t, "units"), rapid.IntRange(1, 99).Draw(t, "cents"))
					keys, amounts[k] = append(keys, k), amt
					r := w.gw.Pay(context.Background(), pay(k, amt))
					require.NotEmpty(t, r.Reason)
				},
				"pay again": func(t *rapid.T) {
					if len(keys) == 0 {
						t.Skip("no payment yet")
					}
					k := rapid.SampledFrom(keys).Draw(t, "key")
					before, _ := w.gw.Lookup(context.Background(), k)
					r := w.gw.Pay(context.Background(), pay(k, amounts[k]))
					if storeRefused(t, r) {
						return
					}
					if before.State == gateway.Succeeded || before.State == gateway.Declined {
						require.Equal(t, before.State, r.State, "a settled payment is answered from the ledger")
						require.True(t, r.Replayed)
					}
				},
				"pay conflicting": func(t *rapid.T) {
					if len(keys) == 0 {
						t.Skip("no payment yet")
					}
					k := rapid.SampledFrom(keys).Draw(t, "key")
					if _, err := w.gw.Lookup(context.Background(), k); errors.Is(err, gateway.ErrUnknownPayment) {
						t.Skip("refused by the store: never kept, so no conflict")
					}
					r := w.gw.Pay(context.Background(), pay(k, "999.99 USD"))
					if !storeRefused(t, r) && amounts[k] != "999.99 USD" {
						require.Equal(t, gateway.Declined, r.State)
					}
				},
				"bank mode": func(t *rapid.T) {
					w.bank.set(rapid.SampledFrom([]fault{pass, refuse, lose}).Draw(t, "mode"))
				},
				"log down": func(t *rapid.T) { w.log.setDown(rapid.Bool().Draw(t, "down")) },
				"store fails": func(t *rapid.T) {
					failing := rapid.SampledFrom([]string{"", "Claim", "Finish"}).Draw(t, "failing")
					w.store.set("Claim", failing == "Claim")
					w.store.set("Finish", failing == "Finish")
				},
				"restart": func(t *rapid.T) {
					w.gw.Close()
					gw, err := gateway.New(w.cfg)
					require.NoError(t, err)
					w.gw = gw
				},
				"time passes": func(t *rapid.T) {
					time.Sleep(time.Duration(rapid.IntRange(1, 5000).Draw(t, "ms")) * time.Millisecond) // synctest: fake time
					synctest.Wait()
				},
				"": func(t *rapid.T) {
					synctest.Wait() // the reconciler and the replayer, started by a restart, at rest
					checkLedgerAgainstBank(t, w, keys)
				},
			})
			// After the faults clear, every payment settles and is logged.
			w.bank.set(pass)
			w.log.setDown(false)
			w.store.set("Claim", false)
			w.store.set("Finish", false)
			require.NoError(rt, w.gw.Drain(context.Background()))
			checkLedgerAgainstBank(rt, w, keys)
			succeeded := 0
			for _, k := range keys {
				r, err := w.gw.Lookup(context.Background(), k)
				if errors.Is(err, gateway.ErrUnknownPayment) {
					continue // refused by the failing store before anything was kept or sent
				}
				require.NoError(rt, err)
				if r.State == gateway.Succeeded {
					succeeded++
				}
				require.NotEqual(rt, gateway.Pending, r.State)
			}
			require.Len(rt, w.log.Entries(), succeeded, "every succeeded payment logged once the outbox drains")
			// The fakes answer instantly, so no append is ever sent twice:
			// a duplicate here would mean the replayer re-sent a delivered entry.
			require.Zero(rt, w.log.Stats().Duplicates)
		})
	})
}

// Payments drawn on the test goroutine, many sent twice, race through the
// gateway while the bank loses replies; afterwards the invariants hold.
func TestGatewayConcurrentBurst(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		rapid.SyncTest(rt, func(rt *rapid.T) {
			n := rapid.IntRange(1, 40).Draw(rt, "payments")
			copies := rapid.SliceOfN(rapid.IntRange(1, 3), n, n).Draw(rt, "copies")
			mode := rapid.SampledFrom([]fault{pass, lose, refuse}).Draw(rt, "bank mode")
			w := newWorld(rt, nil)
			defer w.gw.Close()
			w.bank.set(mode)
			var keys []string
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				k := fmt.Sprintf("burst-%d", i)
				keys = append(keys, k)
				for range copies[i] {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						r := w.gw.Pay(context.Background(), pay(k, "1.00 USD"))
						require.NotEmpty(rt, r.State)
					}()
				}
			}
			close(start)
			wg.Wait()
			checkLedgerAgainstBank(rt, w, keys)
			w.bank.set(pass)
			require.NoError(rt, w.gw.Drain(context.Background()))
			checkLedgerAgainstBank(rt, w, keys)
		})
	})
}
