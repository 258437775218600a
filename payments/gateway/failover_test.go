package gateway_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// newBanksWorld builds a world whose gateway has one acquirer per name, in
// that order, each over its own simulated bank (the first is w.bank).
func newBanksWorld(t testingT, names []string, tweak func(*gateway.Config)) (*world, map[string]*flakyBank) {
	t.Helper()
	banks := map[string]*flakyBank{}
	w := newWorld(t, func(c *gateway.Config) {
		for i, n := range names {
			b, _ := c.Bank.(*flakyBank)
			if i > 0 {
				b = newFlakyBank(t)
			}
			banks[n] = b
			c.Acquirers = append(c.Acquirers, gateway.Acquirer{Name: n, Bank: b})
		}
		c.Bank = nil
		if tweak != nil {
			tweak(c)
		}
	})
	return w, banks
}

// debitedAt lists, sorted, the banks whose own records hold a completed
// transfer for the payment.
func debitedAt(banks map[string]*flakyBank, paymentID string) []string {
	var out []string
	for name, b := range banks {
		for _, st := range b.Transfers() {
			if st.PaymentID == paymentID && st.State == payments.TransferCompleted {
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// storedBank is the bank the store says the payment was handed to.
func storedBank(t testingT, w *world, key string) string {
	t.Helper()
	rec, err := w.mem.Lookup(context.Background(), key)
	require.NoError(t, err)
	return rec.Bank
}

func acquirerStatus(t testingT, w *world, name string) gateway.AcquirerStatus {
	t.Helper()
	for _, a := range w.gw.Status(context.Background()).Acquirers {
		if a.Name == name {
			return a
		}
	}
	require.Failf(t, "no such acquirer", "%s", name)
	return gateway.AcquirerStatus{}
}

var twoBanks = []string{"primary", "secondary"}

// A payment the primary provably never processed — refused by one of its
// guards, or answered "not processed" — goes to the secondary.
func TestFailoverWhenTheFirstBankProvablyDidNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tweak func(*gateway.Config)
		// setup leaves the primary refusing the next payment; go runs
		// payments that must stay in flight meanwhile.
		setup func(t *testing.T, w *world, banks map[string]*flakyBank, goPay func(key string))
	}{
		{name: "not processed answer", setup: func(_ *testing.T, _ *world, banks map[string]*flakyBank, _ func(string)) {
			banks["primary"].set(refuse)
		}},
		{name: "rate limited", tweak: func(c *gateway.Config) { c.Acquirers[0].Policy.Rate = ratelimit.Every(time.Hour) },
			setup: func(t *testing.T, w *world, _ map[string]*flakyBank, _ func(string)) {
				r := w.gw.Pay(context.Background(), pay("first", "1.00 USD")) // takes the only token
				require.Equal(t, "primary", r.Bank, r.Reason)
			}},
		{name: "bulkhead full", tweak: func(c *gateway.Config) { c.Acquirers[0].Policy.MaxConcurrent = 1 },
			setup: func(_ *testing.T, _ *world, banks map[string]*flakyBank, goPay func(string)) {
				banks["primary"].set(hang)
				goPay("in-flight") // holds the only slot until its timeout
			}},
		{name: "breaker half-open with its probe in flight",
			tweak: func(c *gateway.Config) {
				c.Acquirers[0].Policy.Breaker = breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Second}
			},
			setup: func(t *testing.T, w *world, banks map[string]*flakyBank, goPay func(string)) {
				banks["primary"].set(hang)
				r := w.gw.Pay(context.Background(), pay("trip", "1.00 USD"))
				require.Equal(t, gateway.Pending, r.State, r.Reason) // the breaker opens
				time.Sleep(time.Second)                              // half-open
				goPay("probe")                                       // the one probe, hanging at the primary
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w, banks := newBanksWorld(t, twoBanks, tc.tweak)
				defer w.gw.Close()
				var wg sync.WaitGroup
				defer wg.Wait()
				goPay := func(key string) {
					wg.Go(func() { w.gw.Pay(context.Background(), pay(key, "1.00 USD")) })
					synctest.Wait()
				}
				tc.setup(t, w, banks, goPay)

				r := w.gw.Pay(context.Background(), pay("order-1", "2.00 USD"))
				require.Equal(t, gateway.Succeeded, r.State, r.Reason)
				assert.Equal(t, "secondary", r.Bank)
				assert.Equal(t, []string{"primary"}, r.RefusedBy)
				assert.Contains(t, r.Reason, "; at secondary after primary refused it (")
				assert.Equal(t, []string{"secondary"}, debitedAt(banks, "order-1"))
				assert.Equal(t, "secondary", storedBank(t, w, "order-1"))
				assert.Equal(t, "secondary", w.lookup(t, "order-1").Bank)
				assert.EqualValues(t, 1, acquirerStatus(t, w, "secondary").Counts.TookOver)
				assert.NotZero(t, acquirerStatus(t, w, "primary").Counts.Refused)
			})
		})
	}
}

// A payment whose outcome at the primary is unknown stays pending there:
// it is never sent to the secondary, and the reconciler settles it with
// the primary.
func TestUnknownOutcomeStaysPendingAtItsBank(t *testing.T) {
	for name, mode := range map[string]fault{"timeout": hang, "lost reply": lose} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w, banks := newBanksWorld(t, twoBanks, nil)
				defer w.gw.Close()
				banks["primary"].set(mode)

				r := w.gw.Pay(context.Background(), pay("order-1", "2.00 USD"))
				require.Equal(t, gateway.Pending, r.State, r.Reason)
				assert.Equal(t, "primary", r.Bank)
				assert.Empty(t, r.RefusedBy)
				assert.Equal(t, "primary", storedBank(t, w, "order-1"))
				assert.Zero(t, banks["secondary"].transfers(), "sent to a second bank while its outcome at the first is unknown")

				banks["primary"].set(pass)
				require.NoError(t, w.gw.Drain(context.Background()))
				got := w.lookup(t, "order-1")
				assert.Equal(t, gateway.Succeeded, got.State, got.Reason)
				assert.Equal(t, "primary", got.Bank)
				assert.Equal(t, []string{"primary"}, debitedAt(banks, "order-1"))
				assert.Zero(t, banks["secondary"].transfers())
				assert.EqualValues(t, 1, acquirerStatus(t, w, "primary").Counts.Reconciled)
			})
		})
	}
}

// A decline is the bank's answer: the payment is not offered to another.
func TestDeclineDoesNotFailOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, banks := newBanksWorld(t, twoBanks, nil)
		defer w.gw.Close()
		req := pay("order-1", "5.00 USD")
		req.Payer = carol // has 1.00 USD
		r := w.gw.Pay(context.Background(), req)
		require.Equal(t, gateway.Declined, r.State, r.Reason)
		assert.Equal(t, "primary", r.Bank)
		assert.Zero(t, banks["secondary"].transfers())
		assert.EqualValues(t, 1, acquirerStatus(t, w, "primary").Counts.Declined)
	})
}

// A retry of a payment pending at the primary is answered from the store,
// even while routing would send a new payment to the secondary; the
// payment settles at the primary.
func TestRetryOfAPendingPaymentStaysWithItsBank(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, banks := newBanksWorld(t, twoBanks, nil)
		defer w.gw.Close()
		banks["primary"].set(lose)
		req := pay("order-1", "2.00 USD")
		require.Equal(t, gateway.Pending, w.gw.Pay(context.Background(), req).State)
		synctest.Wait() // the pending outcome is recorded after Pay answers

		primary, ok := w.gw.Registry().Get("primary")
		require.True(t, ok)
		primary.ForceOpen()
		require.Equal(t, "secondary", w.gw.Pay(context.Background(), pay("order-2", "1.00 USD")).Bank)

		again := w.gw.Pay(context.Background(), req)
		assert.Equal(t, gateway.Pending, again.State, again.Reason)
		assert.True(t, again.Replayed)
		assert.Equal(t, "primary", again.Bank)
		assert.Equal(t, 1, banks["secondary"].transfers(), "only order-2 reached the secondary")

		primary.Reset()
		banks["primary"].set(pass)
		require.NoError(t, w.gw.Drain(context.Background()))
		again = w.gw.Pay(context.Background(), req)
		assert.Equal(t, gateway.Succeeded, again.State, again.Reason)
		assert.Equal(t, "primary", again.Bank)
		assert.Equal(t, []string{"primary"}, debitedAt(banks, "order-1"))
	})
}

// A payment every bank refused is rejected with every refusal, and a
// retry of it is routed afresh: no bank processed it.
func TestRejectedByEveryBankIsRoutedAfreshOnRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, banks := newBanksWorld(t, twoBanks, nil)
		defer w.gw.Close()
		for _, name := range twoBanks {
			b, _ := w.gw.Registry().Get(name)
			b.ForceOpen()
		}
		r := w.gw.Pay(context.Background(), pay("order-1", "2.00 USD"))
		require.Equal(t, gateway.Rejected, r.State, r.Reason)
		assert.Equal(t, []string{"primary", "secondary"}, r.RefusedBy)
		assert.Empty(t, r.Bank)
		assert.ErrorIs(t, r.Err, breaker.ErrOpen)
		assert.Contains(t, r.Reason, "not attempted by any bank: primary refused it (")
		assert.Empty(t, w.lookup(t, "order-1").Bank)

		b, _ := w.gw.Registry().Get("secondary")
		b.Reset()
		r = w.gw.Pay(context.Background(), pay("order-1", "2.00 USD"))
		require.Equal(t, gateway.Succeeded, r.State, r.Reason)
		assert.Equal(t, "secondary", r.Bank)
		assert.Empty(t, r.RefusedBy, "the open primary is tried after the available secondary")
		assert.Equal(t, []string{"secondary"}, debitedAt(banks, "order-1"))
		assert.Zero(t, banks["primary"].transfers())
	})
}

// A store that cannot record the handover refuses the payment before any
// bank sees it, and no other bank is tried: the store would fail there too.
func TestStoreFailureBeforeTheBankDoesNotFailOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, banks := newBanksWorld(t, twoBanks, nil)
		defer w.gw.Close()
		w.store.set("MarkStarted", true)
		r := w.gw.Pay(context.Background(), pay("order-1", "2.00 USD"))
		require.Equal(t, gateway.Rejected, r.State, r.Reason)
		assert.ErrorIs(t, r.Err, errStore)
		assert.Empty(t, r.RefusedBy)
		assert.Zero(t, banks["primary"].transfers()+banks["secondary"].transfers())
	})
}

// Weighted acquirers share first tries by weight, evenly spread; an
// unavailable one's share goes to the others of its group.
func TestWeightedRouting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, banks := newBanksWorld(t, []string{"a", "b", "c"}, func(c *gateway.Config) {
			c.Acquirers[0].Weight, c.Acquirers[1].Weight = 3, 1
		})
		defer w.gw.Close()
		var got []string
		for i := range 8 {
			got = append(got, w.gw.Pay(context.Background(), pay("w-"+string(rune('a'+i)), "1.00 USD")).Bank)
		}
		assert.Equal(t, []string{"a", "a", "b", "a", "a", "a", "b", "a"}, got)
		assert.EqualValues(t, 6, acquirerStatus(t, w, "a").Counts.Routed)
		assert.EqualValues(t, 2, acquirerStatus(t, w, "b").Counts.Routed)

		a, _ := w.gw.Registry().Get("a")
		a.ForceOpen()
		got = got[:0]
		for i := range 3 {
			got = append(got, w.gw.Pay(context.Background(), pay("x-"+string(rune('a'+i)), "1.00 USD")).Bank)
		}
		assert.Equal(t, []string{"b", "b", "b"}, got)
		st := acquirerStatus(t, w, "a")
		assert.EqualValues(t, 6, st.Counts.Routed, "an open acquirer is not chosen first")
		assert.Zero(t, st.Counts.Refused)
		assert.Zero(t, banks["c"].transfers(), "c comes after the group")
	})
}

// A bank whose health check says it is down is not tried first: payments
// go to the healthy one without a refusal; once it recovers it is first
// again.
func TestRoutingPrefersAHealthyBank(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var probed *probedBank
		w, banks := newBanksWorld(t, twoBanks, func(c *gateway.Config) {
			probed = &probedBank{flakyBank: c.Acquirers[0].Bank.(*flakyBank), probeDown: true}
			c.Acquirers[0].Bank = probed
			c.Health.Interval = time.Second
		})
		defer w.gw.Close()
		time.Sleep(3 * time.Second)
		synctest.Wait()
		st := acquirerStatus(t, w, "primary")
		require.Equal(t, "unhealthy", st.Health)
		assert.False(t, st.Available)
		assert.Equal(t, breaker.HeldOpen, st.Breaker)

		r := w.gw.Pay(context.Background(), pay("order-1", "2.00 USD"))
		require.Equal(t, gateway.Succeeded, r.State, r.Reason)
		assert.Equal(t, "secondary", r.Bank)
		assert.Empty(t, r.RefusedBy, "the unhealthy primary was not tried first")
		st = acquirerStatus(t, w, "primary")
		assert.Zero(t, st.Counts.Routed+st.Counts.Refused)
		assert.Zero(t, banks["primary"].transfers())

		probed.setProbeDown(false)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		r = w.gw.Pay(context.Background(), pay("order-2", "2.00 USD"))
		assert.Equal(t, "primary", r.Bank, r.Reason)
	})
}

// A payment pending at a bank the gateway no longer has stays pending: it
// is never sent to one of the banks it has.
func TestPendingAtAnUnknownBankStaysPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, banks := newBanksWorld(t, twoBanks, nil)
		banks["primary"].set(lose)
		require.Equal(t, gateway.Pending, w.gw.Pay(context.Background(), pay("order-1", "2.00 USD")).State)
		w.gw.Close()

		cfg := w.cfg
		cfg.Acquirers = []gateway.Acquirer{{Name: "other", Bank: banks["secondary"]}}
		gw, err := gateway.New(cfg)
		require.NoError(t, err)
		defer gw.Close()
		time.Sleep(time.Minute)
		synctest.Wait()
		r, err := gw.Lookup(context.Background(), "order-1")
		require.NoError(t, err)
		assert.Equal(t, gateway.Pending, r.State)
		assert.Equal(t, "primary", r.Bank)
		assert.Zero(t, banks["secondary"].transfers())
	})
}

// A gateway built with Config.Bank has one acquirer, "bank".
func TestSingleBankIsAnAcquirerNamedBank(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		r := w.gw.Pay(context.Background(), pay("order-1", "2.00 USD"))
		assert.Equal(t, "bank", r.Bank)
		assert.Equal(t, "bank", w.lookup(t, "order-1").Bank)
		st := w.gw.Status(context.Background())
		require.Len(t, st.Acquirers, 1)
		assert.Equal(t, "bank", st.Acquirers[0].Name)
		assert.Equal(t, st.BankLimit, st.Acquirers[0].Limit)
		for _, name := range []string{"bank", "bank-status"} {
			_, ok := w.gw.Registry().Get(name)
			assert.True(t, ok, name)
		}
	})
}
