package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/pgstore"
	"github.com/riprap-go/riprap/payments/store"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// newSchema names a fresh schema for one test and drops it, with
// everything in it, when the test ends.
func newSchema(t testing.TB) string {
	t.Helper()
	db := adminDB(t)
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		checkCapacity(t, schema)
		_, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		assert.NoError(t, err)
	})
	return schema
}

// checkCapacity checks that the outbox's capacity counter agrees with the
// rows: every write that moved one moved the other.
func checkCapacity(t testing.TB, schema string) {
	t.Helper()
	var used, rows int
	err := adminDB(t).QueryRowContext(ctx, fmt.Sprintf(`SELECT (SELECT used FROM %[1]s.outbox_capacity),
		(SELECT count(*) FROM %[1]s.payments WHERE state IN ('', 'pending_reconciliation'))
		+ (SELECT count(*) FROM %[1]s.outbox WHERE NOT refused)`, schema)).Scan(&used, &rows)
	if err == nil { // no tables: the store was never opened
		assert.Equal(t, rows, used, "schema %s: the capacity counter agrees with the rows", schema)
	}
}

// open opens a store in a fresh schema (cfg.Schema empty) or in
// cfg.Schema, closed when the test ends.
func open(t testing.TB, cfg pgstore.Config) *pgstore.Store {
	t.Helper()
	cfg.DSN = serverDSN(t)
	if cfg.Schema == "" {
		cfg.Schema = newSchema(t)
	}
	s, err := pgstore.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

func lease(owner string, at time.Time) store.Lease {
	return store.Lease{Owner: owner, Now: at, TTL: time.Minute}
}

func request(i int) payments.PaymentRequest {
	return payments.PaymentRequest{IdempotencyKey: fmt.Sprintf("pay-%05d", i), Payer: "acct_alice0001",
		Payee: "acct_bob00002", Amount: payments.New(int64(100+i), payments.USD), Description: "invoice"}
}

func entryOf(req payments.PaymentRequest) *payments.Entry {
	return &payments.Entry{PaymentID: req.IdempotencyKey, TransferID: "tr-" + req.IdempotencyKey,
		Payer: req.Payer, Payee: req.Payee, Amount: req.Amount, At: t0}
}

var success = store.Result{State: store.Succeeded, Reason: "the bank moved the money", TransferID: "tr"}
