package sqlitestore_test

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/riprap-go/riprap/payments/sqlitestore"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
)

func TestALockedDatabaseRefusesClaimsWithAClearError(t *testing.T) {
	s, path := open(t, sqlitestore.Config{BusyTimeout: 20 * time.Millisecond})
	pay(t, s, 0)
	other := raw(t, path, "_pragma=busy_timeout(0)")
	conn, err := other.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE") // another process holds the write lock
	require.NoError(t, err)

	_, err = s.Claim(ctx, request(1), lease("gw"))

	require.Error(t, err)
	assert.Equal(t, sqlite3.SQLITE_BUSY, sqlitestore.Code(err))
	assert.Contains(t, err.Error(), "locked")
	assert.Contains(t, err.Error(), path, "the error names the file")
	_, err = conn.ExecContext(ctx, "ROLLBACK")
	require.NoError(t, err)
	pay(t, s, 1) // the lock gone, claims go through again
	assert.Equal(t, 2, present(t, s, 2))
}

func TestFinishWritesTheResultAndTheEntryOrNeither(t *testing.T) {
	s, path := open(t, sqlitestore.Config{})
	req := request(0)
	res, err := s.Claim(ctx, req, lease("gw"))
	require.NoError(t, err)
	tok := res.Record.Claim.Token
	// The outbox refuses the entry halfway through Finish's transaction.
	_, err = raw(t, path, "").ExecContext(ctx,
		`CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'injected: disk gone'); END`)
	require.NoError(t, err)

	err = s.Finish(ctx, req.IdempotencyKey, tok, success, entryOf(req))

	require.ErrorContains(t, err, "injected")
	rec, err := s.Lookup(ctx, req.IdempotencyKey)
	require.NoError(t, err)
	assert.Equal(t, store.State(""), rec.Result.State, "the result was not written either")
	assert.Equal(t, tok, rec.Claim.Token, "the claim still holds: Finish can be tried again")
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Zero(t, st.Outbox)
	assert.Equal(t, 1, st.Open)

	_, err = raw(t, path, "").ExecContext(ctx, `DROP TRIGGER fail_outbox`)
	require.NoError(t, err)
	require.NoError(t, s.Finish(ctx, req.IdempotencyKey, tok, success, entryOf(req)))
	next, err := s.Next(ctx, lease("gw"), 0)
	require.NoError(t, err)
	assert.Len(t, next, 1)
}

func TestASizeCapRefusesClaimsButLetsClaimedPaymentsFinish(t *testing.T) {
	s, _ := open(t, sqlitestore.Config{MaxBytes: 128 << 10, Headroom: 0.25, Store: store.Config{FullRetryAfter: 3 * time.Second}})
	var tokens []string
	var refused error
	for i := 0; refused == nil && i < 10000; i++ {
		res, err := s.Claim(ctx, request(i), lease("gw"))
		if err != nil {
			refused = err
			break
		}
		tokens = append(tokens, res.Record.Claim.Token)
	}
	require.ErrorIs(t, refused, store.ErrFull)
	assert.True(t, resilience.IsRejected(refused), "not attempted: the gateway rejects before the bank")
	after, _ := resilience.RetryAfter(refused)
	assert.Equal(t, 3*time.Second, after)
	require.NotEmpty(t, tokens)

	for i, tok := range tokens { // every payment already claimed can still be recorded
		req := request(i)
		require.NoError(t, s.MarkStarted(ctx, req.IdempotencyKey, tok, "bank"))
		require.NoError(t, s.Finish(ctx, req.IdempotencyKey, tok, success, entryOf(req)), "payment %d", i)
	}
	assert.Equal(t, len(tokens), present(t, s, len(tokens)))
}

func TestAFullDiskFailsTheWholeWriteAndRefusesClaims(t *testing.T) {
	s, _ := open(t, sqlitestore.Config{MaxBytes: 96 << 10})
	req := request(0)
	res, err := s.Claim(ctx, req, lease("gw"))
	require.NoError(t, err)
	tok := res.Record.Claim.Token
	before, err := s.Stats(ctx)
	require.NoError(t, err)

	// A write that needs more room than the file has left.
	err = s.Finish(ctx, req.IdempotencyKey, tok, store.Result{State: store.Succeeded,
		Reason: strings.Repeat("x", 200<<10)}, entryOf(req))

	require.Error(t, err)
	assert.Equal(t, sqlite3.SQLITE_FULL, sqlitestore.Code(err), "%v", err)
	assert.Contains(t, err.Error(), "full")
	rec, lerr := s.Lookup(ctx, req.IdempotencyKey)
	require.NoError(t, lerr)
	assert.Equal(t, store.State(""), rec.Result.State, "nothing of the failed write was kept")
	assert.Equal(t, tok, rec.Claim.Token)
	after, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	require.NoError(t, s.Finish(ctx, req.IdempotencyKey, tok, success, entryOf(req)), "a write that fits still does")

	var refused error
	for i := 1; refused == nil && i < 10000; i++ {
		_, refused = s.Claim(ctx, request(i), lease("gw"))
	}
	assert.ErrorIs(t, refused, store.ErrFull, "then claims are refused before the file is full")
}

func TestReopeningKeepsEverything(t *testing.T) {
	s, path := open(t, sqlitestore.Config{})
	for i := range 5 {
		pay(t, s, i)
	}
	res, err := s.Claim(ctx, request(5), lease("gw"))
	require.NoError(t, err)
	require.NoError(t, s.MarkStarted(ctx, request(5).IdempotencyKey, res.Record.Claim.Token, "bank-b"))
	require.NoError(t, s.Refuse(ctx, request(0).IdempotencyKey, "conflict at the log", t0))
	before, err := s.Stats(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	again, err := sqlitestore.Open(path, sqlitestore.Config{})
	require.NoError(t, err)
	defer again.Close()
	after, err := again.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	n, err := again.Expire(ctx, "gw") // the restarted gateway frees its old claims
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	due, err := again.DuePending(ctx, lease("gw"), t0, 0)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, "bank-b", due[0].Bank, "the reconciler knows which bank to ask")
}

func TestOpenRefusesAnotherApplicationsDatabase(t *testing.T) {
	path := t.TempDir() + "/other.db"
	_, err := raw(t, path, "").ExecContext(ctx, "CREATE TABLE t (x)")
	require.NoError(t, err)
	_, err = sqlitestore.Open(path, sqlitestore.Config{})
	assert.ErrorContains(t, err, "another application")
}

func TestOpenRefusesBadConfig(t *testing.T) {
	for field, cfg := range map[string]sqlitestore.Config{
		"MaxOutbox":   {Store: store.Config{MaxOutbox: -1}},
		"Sync":        {Sync: 9},
		"BusyTimeout": {BusyTimeout: -1},
		"MaxBytes":    {MaxBytes: -1},
		"Headroom":    {Headroom: 1},
		"MaxBatch":    {MaxBatch: -1},
		"Readers":     {Readers: -1},
	} {
		_, err := sqlitestore.Open(t.TempDir()+"/x.db", cfg)
		var ce *resilience.ConfigError
		require.ErrorAs(t, err, &ce, field)
		assert.Equal(t, field, ce.Field)
	}
	_, err := sqlitestore.Open("", sqlitestore.Config{})
	assert.ErrorIs(t, err, store.ErrInvalid)
	_, err = sqlitestore.Open(t.TempDir()+"/what?.db", sqlitestore.Config{})
	assert.ErrorIs(t, err, store.ErrInvalid)
	_, err = os.Stat(t.TempDir() + "/x.db")
	assert.True(t, os.IsNotExist(err))
}

// Writes committed together each stand alone: one failing halfway (its
// payment row written, its log entry refused) is undone, the others in its
// batch commit, and the writer's copy of the claimed payment is what the
// file holds: the payment can still be finished with its claim.
func TestAFailedWriteInABatchLeavesTheOthersWhole(t *testing.T) {
	s, path := open(t, sqlitestore.Config{})
	const n = 24
	tokens := make([]string, n)
	for i := range n {
		res, err := s.Claim(ctx, request(i), lease("gw"))
		require.NoError(t, err)
		tokens[i] = res.Record.Claim.Token
	}
	bad := request(7).IdempotencyKey
	_, err := raw(t, path, "").ExecContext(ctx, `CREATE TRIGGER fail_one BEFORE INSERT ON outbox
		WHEN NEW.payment_id = '`+bad+`' BEGIN SELECT RAISE(ABORT, 'injected'); END`)
	require.NoError(t, err)

	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := request(i)
			errs[i] = s.Finish(ctx, req.IdempotencyKey, tokens[i], success, entryOf(req))
		})
	}
	wg.Wait()

	for i := range n {
		rec, err := s.Lookup(ctx, request(i).IdempotencyKey)
		require.NoError(t, err)
		if request(i).IdempotencyKey == bad {
			assert.ErrorContains(t, errs[i], "injected")
			assert.Equal(t, store.State(""), rec.Result.State, "the failed write left nothing")
			continue
		}
		assert.NoError(t, errs[i])
		assert.Equal(t, store.Succeeded, rec.Result.State)
	}
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, n-1, st.Outbox)
	assert.Equal(t, 1, st.Open)

	_, err = raw(t, path, "").ExecContext(ctx, "DROP TRIGGER fail_one")
	require.NoError(t, err)
	require.NoError(t, s.Finish(ctx, bad, tokens[7], success, entryOf(request(7))))
	next, err := s.Next(ctx, lease("gw"), 0)
	require.NoError(t, err)
	assert.Len(t, next, n)
}

// Outbox leases live in memory (one process owns the file): reopening the
// store ends those of the last run, as Expire would, and the entries are
// handed out again, oldest first.
func TestReopeningEndsOutboxLeases(t *testing.T) {
	s, path := open(t, sqlitestore.Config{})
	for i := range 3 {
		pay(t, s, i)
	}
	leased, err := s.Next(ctx, lease("gw-old"), 0)
	require.NoError(t, err)
	require.Len(t, leased, 3)
	none, err := s.Next(ctx, lease("gw-other"), 0)
	require.NoError(t, err)
	require.Empty(t, none, "leased to gw-old")
	require.NoError(t, s.Ack(ctx, request(1).IdempotencyKey))
	require.NoError(t, s.Close())

	again, err := sqlitestore.Open(path, sqlitestore.Config{})
	require.NoError(t, err)
	defer again.Close()
	next, err := again.Next(ctx, lease("gw-new"), 0)
	require.NoError(t, err)
	require.Len(t, next, 2)
	assert.Equal(t, []string{request(0).IdempotencyKey, request(2).IdempotencyKey}, []string{next[0].PaymentID, next[1].PaymentID})
	rec, err := again.Lookup(ctx, request(1).IdempotencyKey)
	require.NoError(t, err)
	assert.Equal(t, store.Delivered, rec.Log)
}
