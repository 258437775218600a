package sqlitestore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func lease(owner string) store.Lease { return store.Lease{Owner: owner, Now: t0, TTL: time.Minute} }

func request(i int) payments.PaymentRequest {
	return payments.PaymentRequest{IdempotencyKey: fmt.Sprintf("pay-%05d", i), Payer: "acct_alice0001",
		Payee: "acct_bob00002", Amount: payments.New(int64(100+i), payments.USD), Description: "invoice"}
}

func entryOf(req payments.PaymentRequest) *payments.Entry {
	return &payments.Entry{PaymentID: req.IdempotencyKey, TransferID: "tr-" + req.IdempotencyKey,
		Payer: req.Payer, Payee: req.Payee, Amount: req.Amount, At: t0}
}

var success = store.Result{State: store.Succeeded, Reason: "the bank moved the money", TransferID: "tr"}

// pay records payment i as succeeded with its log entry.
func pay(t testing.TB, s store.Store, i int) {
	t.Helper()
	req := request(i)
	res, err := s.Claim(ctx, req, lease("gw"))
	require.NoError(t, err)
	require.Equal(t, store.Claimed, res.Status)
	tok := res.Record.Claim.Token
	require.NoError(t, s.MarkStarted(ctx, req.IdempotencyKey, tok, "bank"))
	require.NoError(t, s.Finish(ctx, req.IdempotencyKey, tok, success, entryOf(req)))
}

// raw opens the file with the plain driver, behind the store's back.
func raw(t *testing.T, path string, params string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?"+params)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func openRaw(path string) (*sql.DB, error) { return sql.Open("sqlite", path) }

// copyFiles copies the database and its -wal and -shm files, as they are
// on disk now, into a new directory: what a machine that lost power at this
// moment would find.
func copyFiles(t *testing.T, path string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(path))
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(path + suffix)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(dst+suffix, b, 0o600))
	}
	return dst
}

// present counts the payments among the first n that the store holds as
// succeeded.
func present(t *testing.T, s store.Store, n int) (found int) {
	t.Helper()
	for i := range n {
		rec, err := s.Lookup(ctx, request(i).IdempotencyKey)
		if err == nil && rec.Result.State == store.Succeeded {
			found++
		}
	}
	return found
}
