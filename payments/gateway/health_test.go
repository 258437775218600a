package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

// withProbedBank gives the world a bank whose health can be probed, each
// call taking delay.
func withProbedBank(delay time.Duration, pb **probedBank) func(*gateway.Config) {
	return func(c *gateway.Config) {
		fb := c.Bank.(*flakyBank)
		fb.delay = delay
		*pb = &probedBank{flakyBank: fb}
		c.Bank = *pb
	}
}

// A bank that answers every request correctly in 150 ms, far within its
// 2 s call timeout, with every default: its probe is judged by the same
// bar, so no payment is refused for a health hold.
func TestSlowButWorkingBankIsNeverHeldDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var pb *probedBank
		rec := resiliencetest.NewRecorder()
		w := newWorld(t, func(c *gateway.Config) {
			withProbedBank(150*time.Millisecond, &pb)(c)
			c.Listeners = resilience.Listeners{rec.Listener()}
		})
		defer w.gw.Close()
		counts := map[gateway.State]int{}
		for i := range 50 {
			r := w.gw.Pay(context.Background(), pay(fmt.Sprintf("order-%d", i), "1.00 USD"))
			counts[r.State]++
			assert.False(t, errors.Is(r.Err, breaker.ErrOpen), "order-%d refused by a hold: %s", i, r.Reason)
		}
		assert.Equal(t, map[gateway.State]int{gateway.Succeeded: 50}, counts)
		for _, e := range rec.Events() {
			if e.Kind == resilience.EventStateChange {
				assert.NotEqual(t, breaker.HeldOpen.String(), e.To, "%s %s held open", e.Policy, e.Name)
				assert.NotEqual(t, health.Unhealthy.String(), e.To, "%s %s judged unhealthy", e.Policy, e.Name)
			}
		}
		bank, ok := w.gw.Status(context.Background()), false
		for _, h := range bank.Health {
			if h.Name == "bank" {
				ok = true
				assert.Equal(t, health.Healthy, h.Status)
				assert.GreaterOrEqual(t, h.ProbeTimeout, 2*time.Second, "the probe's bar is the call timeout")
				assert.Positive(t, h.Probes)
			}
		}
		assert.True(t, ok, "the bank is probed")
	})
}

func TestProbeStricterThanTheCallsIsRefused(t *testing.T) {
	_, err := gateway.New(gateway.Config{Bank: &probedBank{flakyBank: &flakyBank{}}, FX: &flakyFX{}, Log: &flakyLog{},
		Health: gateway.HealthPolicy{Timeout: 125 * time.Millisecond}})
	var ce *resilience.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "gateway", ce.Component)
	assert.Equal(t, "Health.Timeout", ce.Field)
	assert.Contains(t, ce.Rule, "BankPolicy.Timeout (2s)")
	assert.Equal(t, 125*time.Millisecond, ce.Value)

	gw, err := gateway.New(gateway.Config{Bank: &probedBank{flakyBank: &flakyBank{}}, FX: &flakyFX{}, Log: &flakyLog{},
		Health: gateway.HealthPolicy{Timeout: 2 * time.Second}, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err, "a probe as patient as the calls is fine")
	gw.Close()
}

// The bank's probe fails, so the breaker of transfers is held open; the
// reconciler still learns, through the status lookups' own breaker, that
// a pending payment went through.
func TestReconcilerResolvesPendingPaymentsWhileTransfersAreHeld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var pb *probedBank
		w := newWorld(t, withProbedBank(0, &pb))
		defer w.gw.Close()
		ctx := context.Background()
		w.bank.set(lose)
		require.Equal(t, gateway.Pending, w.gw.Pay(ctx, pay("order-1", "1.00 USD")).State)
		w.bank.set(refuse) // status lookups fail too, until the hold is in place
		pb.setProbeDown(true)
		time.Sleep(3 * time.Second) // two failed probes (synctest: fake time)
		synctest.Wait()
		transfers := w.breaker(t, "bank")
		require.Equal(t, breaker.HeldOpen, transfers.State())
		require.Equal(t, gateway.Pending, w.lookup(t, "order-1").State)
		w.bank.set(pass) // the bank answers again; its probe still fails

		r := w.gw.Pay(ctx, pay("order-2", "1.00 USD"))
		assert.Equal(t, gateway.Rejected, r.State, "transfers are held")
		assert.ErrorIs(t, r.Err, breaker.ErrOpen)

		time.Sleep(10 * time.Second) // several reconciler rounds (synctest: fake time)
		synctest.Wait()
		assert.Equal(t, breaker.HeldOpen, transfers.State(), "still held")
		got := w.lookup(t, "order-1")
		assert.Equal(t, gateway.Succeeded, got.State, got.Reason)
		assert.Equal(t, breaker.Closed, w.breaker(t, "bank-status").State())
		synctest.Wait()
		assert.Len(t, w.log.Entries(), 1)
	})
}
