package gateway_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/resilience/backoff"
)

// pauseError is a bank's "503, retry after": nothing processed (it wraps
// errRefused, which the test worlds' NotProcessed recognises) and a hint.
type pauseError struct{ after time.Duration }

func (e *pauseError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", errRefused, e.after)
}
func (e *pauseError) Unwrap() error             { return errRefused }
func (e *pauseError) RetryAfter() time.Duration { return e.after }

// pausingBank answers every transfer with a pauseError of after.
type pausingBank struct {
	payments.Bank
	after time.Duration
	calls atomic.Int32
}

func (b *pausingBank) Transfer(context.Context, payments.TransferRequest) (payments.Receipt, error) {
	b.calls.Add(1)
	return payments.Receipt{}, &pauseError{after: b.after}
}

// A bank that asks for a longer pause than BankPolicy.MaxRetryAfter is not
// retried within the payment: the payment is rejected at once, with the
// bank's hint. In the drill's bank outage (503, retry after 3s) the first
// payments, sent before the breaker opened, were retried after 500ms — the
// cap — only to be refused, and took 500ms against 1ms with no protection.
// A hint within the cap is still waited out and retried.
func TestBankAskingForALongPauseIsNotRetriedWithinThePayment(t *testing.T) {
	cases := []struct {
		name    string
		after   time.Duration
		calls   int32
		latency time.Duration
	}{
		{name: "longer than MaxRetryAfter", after: 3 * time.Second, calls: 1, latency: 0},
		{name: "exactly MaxRetryAfter", after: 500 * time.Millisecond, calls: 3, latency: time.Second},
		{name: "within MaxRetryAfter", after: 200 * time.Millisecond, calls: 3, latency: 400 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var bank *pausingBank
				w := newWorld(t, func(c *gateway.Config) {
					bank = &pausingBank{Bank: c.Bank, after: tc.after}
					c.Bank, c.Health.Disabled = bank, true
					c.BankPolicy.Backoff = backoff.Constant(time.Millisecond)
				})
				defer w.gw.Close()
				r := w.gw.Pay(context.Background(), pay("order-pause", "5.00 USD"))
				assert.Equal(t, gateway.Rejected, r.State, r.Reason)
				assert.Equal(t, tc.calls, bank.calls.Load(), "attempts")
				assert.Equal(t, tc.latency, r.Latency)
				assert.Equal(t, tc.after, r.RetryAfter, "the bank's hint, for the caller")
			})
		})
	}
}

// With a second bank, a primary asking for a long pause hands the payment
// over at once: the customer does not wait out MaxRetryAfter first.
func TestLongPauseAtThePrimaryFailsOverAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var primary *pausingBank
		w, banks := newBanksWorld(t, twoBanks, func(c *gateway.Config) {
			c.Health.Disabled = true
			primary = &pausingBank{Bank: c.Acquirers[0].Bank, after: 3 * time.Second}
			c.Acquirers[0].Bank = primary
		})
		defer w.gw.Close()
		r := w.gw.Pay(context.Background(), pay("order-over", "5.00 USD"))
		require.Equal(t, gateway.Succeeded, r.State, r.Reason)
		assert.Equal(t, "secondary", r.Bank)
		assert.Equal(t, []string{"primary"}, r.RefusedBy)
		assert.Zero(t, r.Latency, "no wait before failing over")
		assert.EqualValues(t, 1, primary.calls.Load())
		assert.Equal(t, []string{"secondary"}, debitedAt(banks, "order-over"))
	})
}
