// Package storetest is the conformance suite of payments/store: every
// [store.Store] implementation runs [Run] in its own tests, so the in-memory
// store and the SQLite one answer alike.
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

// Factory opens a fresh, empty store bounded by cfg for one test. It
// registers the store's cleanup with t (the suite closes stores it is done
// with too: Close must be safe to call twice).
type Factory func(t *testing.T, cfg store.Config) store.Store

// Run runs the whole suite against the stores open makes: every method,
// the invariants (a result and its log entry written together, idempotency,
// the outbox bound, claims and their expiry), a rapid model-based test and
// a concurrent burst.
func Run(t *testing.T, open Factory) { RunWith(t, open, Options{}) }

// Options tunes the suite for a slow implementation. The zero value is the
// full suite.
type Options struct {
	// ModelRounds is how many rapid Repeat rounds make one history of the
	// model-based test (each about 30 steps); 0 means 4. Fewer rounds
	// shorten the run and find fewer deep bugs.
	ModelRounds int
}

// RunWith is [Run] with options.
func RunWith(t *testing.T, open Factory, opts Options) {
	if opts.ModelRounds <= 0 {
		opts.ModelRounds = 4
	}
	t.Run("Ledger", func(t *testing.T) { runLedger(t, open) })
	t.Run("Outbox", func(t *testing.T) { runOutbox(t, open) })
	t.Run("Capacity", func(t *testing.T) { runCapacity(t, open) })
	t.Run("Model", func(t *testing.T) { runModel(t, open, opts.ModelRounds) })
	t.Run("Burst", func(t *testing.T) { runBurst(t, open) })
}

// t0 is the suite's "now": stores never read a clock of their own.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const ttl = time.Minute

var ctx = context.Background()

func lease(owner string, at time.Time) store.Lease {
	return store.Lease{Owner: owner, Now: at, TTL: ttl}
}

// request returns a valid payment of amount cents under key.
func request(key string, cents int64) payments.PaymentRequest {
	return payments.PaymentRequest{IdempotencyKey: key, Payer: "acct_alice0001", Payee: "acct_bob00002",
		Amount: payments.New(cents, payments.USD), Description: "rent"}
}

func entryFor(req payments.PaymentRequest) *payments.Entry {
	return &payments.Entry{PaymentID: req.IdempotencyKey, TransferID: "tr-" + req.IdempotencyKey,
		Payer: req.Payer, Payee: req.Payee, Amount: req.Amount, At: t0}
}

func succeeded(transfer string) store.Result {
	return store.Result{State: store.Succeeded, Reason: "the bank moved the money", TransferID: transfer}
}

// claimNew claims a new payment and returns its token.
func claimNew(t *testing.T, s store.Store, req payments.PaymentRequest, owner string, at time.Time) string {
	t.Helper()
	res, err := s.Claim(ctx, req, lease(owner, at))
	require.NoError(t, err)
	require.Equal(t, store.Claimed, res.Status)
	require.NotEmpty(t, res.Record.Claim.Token)
	return res.Record.Claim.Token
}

// pay runs a payment through to success with its entry queued.
func pay(t *testing.T, s store.Store, req payments.PaymentRequest) {
	t.Helper()
	tok := claimNew(t, s, req, "gw", t0)
	require.NoError(t, s.MarkStarted(ctx, req.IdempotencyKey, tok, "bank"))
	require.NoError(t, s.Finish(ctx, req.IdempotencyKey, tok, succeeded("tr-"+req.IdempotencyKey), entryFor(req)))
}

func key(i int) string { return fmt.Sprintf("pay-%04d", i) }

func stats(t *testing.T, s store.Store) store.Stats {
	t.Helper()
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	return st
}
