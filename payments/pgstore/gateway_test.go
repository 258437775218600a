package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/pgstore"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// lossyBank is sim's bank whose replies to transfers are lost while
// lossy is set: the money moves, the gateway hears an error it cannot
// read, and the payment is left pending for the reconciler.
type lossyBank struct {
	*sim.Bank
	lossy atomic.Bool
}

var errReplyLost = errors.New("test: connection reset after the request was sent")

func (b *lossyBank) Transfer(ctx context.Context, req payments.TransferRequest) (payments.Receipt, error) {
	rc, err := b.Bank.Transfer(ctx, req)
	if err == nil && b.lossy.Load() {
		return payments.Receipt{}, errReplyLost
	}
	return rc, err
}

// Two gateways of one process share the ledger through two stores on one
// schema: the same payment sent to both at once is settled by one, a
// retry is answered by either from the ledger, and the reconcilers and
// outbox replayers of both run without checking a payment or sending a log
// entry twice — counted by sim's bank and log.
func TestTwoGatewaysShareTheLedger(t *testing.T) {
	schema := newSchema(t)
	bank := &lossyBank{Bank: sim.NewBank(sim.BankConfig{})}
	require.NoError(t, bank.Open("acct_alice0001", payments.New(1_000_000, payments.USD)))
	require.NoError(t, bank.Open("acct_bob00002", payments.New(0, payments.USD)))
	txlog := sim.NewLog(sim.LogConfig{Seed: 1})
	var gws []*gateway.Gateway
	for _, name := range []string{"gw-a", "gw-b"} {
		gw, err := gateway.New(gateway.Config{Bank: bank, FX: sim.NewFX(sim.FXConfig{}), Log: txlog,
			Store: open(t, pgstore.Config{Schema: schema}), Instance: name,
			Health:            gateway.HealthPolicy{Disabled: true},
			BankPolicy:        gateway.BankPolicy{Attempts: 1, Breaker: breaker.Config{ConsecutiveFailures: 1000}},
			ReconcileInterval: 50 * time.Millisecond})
		require.NoError(t, err)
		t.Cleanup(gw.Close)
		gws = append(gws, gw)
	}
	const together, lost = 24, 8

	// The same payment sent to both gateways at once.
	var wg sync.WaitGroup
	first := make([][2]gateway.Result, together)
	for i := range together {
		for g, gw := range gws {
			wg.Go(func() { first[i][g] = gw.Pay(ctx, payment("both", i)) })
		}
	}
	wg.Wait()
	for i := range together {
		a, b := first[i][0].State, first[i][1].State
		assert.True(t, a == gateway.Succeeded || b == gateway.Succeeded, "payment %d: %s and %s", i, a, b)
	}
	// Replies lost: pending payments, for the reconcilers.
	bank.lossy.Store(true)
	for i := range lost {
		assert.Equal(t, gateway.Pending, gws[i%2].Pay(ctx, payment("lost", i)).State)
	}
	bank.lossy.Store(false)
	drain, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, gw := range gws {
		wg.Go(func() { assert.NoError(t, gw.Drain(drain)) })
	}
	wg.Wait()

	transfers := bank.Stats().TransferCalls
	for i := range together {
		for _, gw := range gws { // a retry, answered by either from the ledger
			r := gw.Pay(ctx, payment("both", i))
			assert.Equal(t, gateway.Succeeded, r.State)
			assert.True(t, r.Replayed)
		}
	}
	for i := range lost {
		r := gws[(i+1)%2].Pay(ctx, payment("lost", i)) // the other gateway
		assert.Equal(t, gateway.Succeeded, r.State, r.Reason)
		assert.True(t, r.Replayed)
	}
	bs, ls := bank.Stats(), txlog.Stats()
	assert.Equal(t, transfers, bs.TransferCalls, "retries never reach the bank")
	assert.Equal(t, together+lost, bs.TransferCalls, "each payment sent to the bank once, by one gateway")
	assert.Equal(t, together+lost, bs.DebitsApplied)
	assert.Empty(t, bank.DoubleCharges())
	assert.Equal(t, lost, bs.StatusCalls, "each pending payment checked once, by one reconciler")
	assert.Equal(t, together+lost, ls.Stored, "every payment logged")
	assert.Equal(t, ls.Stored, ls.Appends, "no log entry sent twice")
}

func payment(kind string, i int) payments.PaymentRequest {
	return payments.PaymentRequest{IdempotencyKey: fmt.Sprintf("%s-%03d", kind, i), Payer: "acct_alice0001",
		Payee: "acct_bob00002", Amount: payments.New(int64(100+i), payments.USD), Description: "invoice"}
}
