package gateway_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A payment whose first attempt hangs does not wait out a second attempt
// once the bank's breaker has opened meanwhile: its retry learns of it and
// gives up, and the payment is pending (the first attempt may have reached
// the bank). This is what keeps the protected tail no worse than no
// protection during a hang (issue 19).
func TestRetryStopsWhenTheBreakerOpensMeanwhile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		defer w.gw.Close()
		w.bank.set(hang)
		done := make(chan gateway.Result, 1)
		go func() { done <- w.gw.Pay(context.Background(), pay("order-hang", "5.00 USD")) }()
		synctest.Wait() // the first attempt hangs at the bank
		require.Equal(t, 1, w.bank.transfers())

		br, ok := w.gw.Registry().Get("bank")
		require.True(t, ok)
		br.ForceOpen()

		r := <-done
		assert.Equal(t, gateway.Pending, r.State, r.Reason)
		assert.Equal(t, 1, w.bank.transfers(), "no second attempt after the breaker opened")
	})
}
