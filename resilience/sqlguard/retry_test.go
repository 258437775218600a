package sqlguard_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/sqlguard"
)

func busyOnly(err error) bool { return errors.Is(err, errBusy) }

func retrying(rec *recorder) sqlguard.Config {
	return sqlguard.Config{Guards: []resilience.Guard{rec}, Retry: retryUpTo(3), Retryable: busyOnly}
}

func TestRetryRunsOnlyIdempotentStatementsWithRetryableErrors(t *testing.T) {
	idem := sqlguard.Idempotent(context.Background())
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		err   error
		execs int
		fails bool
	}{
		{"marked, retryable error", idem, errBusy, 2, false},
		{"unmarked", context.Background(), errBusy, 1, true},
		{"marked, other error", idem, errUnique, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(true)
			rec := &recorder{}
			db := openDB(t, f, retrying(rec))
			require.NoError(t, db.Ping())
			f.fail("exec", tc.err)

			_, err := db.ExecContext(tc.ctx, "UPDATE t SET v = 1")

			assert.Equal(t, tc.execs, f.calls("exec"))
			if tc.fails {
				assert.Equal(t, tc.err, err, "the driver's own error, not the retry's")
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

func TestRetryNeverRunsInsideATransaction(t *testing.T) {
	f := newFake(true)
	db := openDB(t, f, retrying(&recorder{}))
	ctx := sqlguard.Idempotent(context.Background())
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	f.fail("exec", errBusy)
	f.fail("commit", errBusy)

	_, err = tx.ExecContext(ctx, "UPDATE t SET v = 1")
	assert.ErrorIs(t, err, errBusy)
	assert.ErrorIs(t, tx.Commit(), errBusy)

	assert.Equal(t, 1, f.calls("exec"))
	assert.Equal(t, 1, f.calls("commit"))
	// After the transaction, statements are retried again.
	f.fail("exec", errBusy)
	_, err = db.ExecContext(ctx, "UPDATE t SET v = 1")
	assert.NoError(t, err)
	assert.Equal(t, 3, f.calls("exec"))
}

func TestRetryRepeatsEffectFreeCallsWithoutTheMarker(t *testing.T) {
	f := newFake(true)
	db := openDB(t, f, retrying(&recorder{}))
	require.NoError(t, db.Ping())
	f.fail("begin", errBusy)
	f.fail("prepare", errBusy)

	tx, err := db.Begin()
	require.NoError(t, err)
	require.NoError(t, tx.Rollback())
	st, err := db.Prepare("SELECT 1")
	require.NoError(t, err)
	require.NoError(t, st.Close())

	assert.Equal(t, 2, f.calls("begin"))
	assert.Equal(t, 2, f.calls("prepare"))
}

func TestRetryRepeatsAFailedConnect(t *testing.T) {
	f := newFake(true)
	db := openDB(t, f, retrying(&recorder{}))
	f.fail("connect", errors.New("dial tcp: connection refused"), &timeoutError{})

	require.NoError(t, db.Ping())

	assert.Equal(t, 3, f.calls("connect"))
}

func TestRetryStopsAtARejection(t *testing.T) {
	f := newFake(true)
	open := &refuser{}
	db := openDB(t, f, sqlguard.Config{Guards: []resilience.Guard{open}, Retry: retryUpTo(3), Retryable: busyOnly})
	require.NoError(t, db.Ping())
	open.on.Store(true)

	_, err := db.ExecContext(sqlguard.Idempotent(context.Background()), "UPDATE t SET v = 1")

	assert.True(t, resilience.IsRejected(err))
	assert.Zero(t, f.calls("exec"))
}

func TestRefusedCommitDiscardsTheConnection(t *testing.T) {
	f := newFake(true)
	open := &refuser{}
	db := openDB(t, f, sqlguard.Config{Guards: []resilience.Guard{open}})
	tx, err := db.Begin()
	require.NoError(t, err)
	_, err = tx.Exec("UPDATE t SET v = 1")
	require.NoError(t, err)
	open.on.Store(true)

	err = tx.Commit()

	assert.True(t, resilience.IsRejected(err), "not attempted")
	assert.ErrorIs(t, err, driver.ErrBadConn)
	assert.Zero(t, f.calls("commit"))
	_, closed := f.counts()
	assert.Equal(t, 1, closed, "the connection holding the open transaction was closed, not pooled")
	open.on.Store(false)
	_, err = db.Exec("UPDATE t SET v = 1")
	require.NoError(t, err)
	assert.Equal(t, 2, f.calls("connect"), "the next call got a fresh connection")
}

func TestRollbackIsNeverRefused(t *testing.T) {
	f := newFake(true)
	open := &refuser{}
	db := openDB(t, f, sqlguard.Config{Guards: []resilience.Guard{open}})
	tx, err := db.Begin()
	require.NoError(t, err)
	open.on.Store(true)

	require.NoError(t, tx.Rollback())

	assert.Equal(t, 1, f.calls("rollback"))
}

// timeoutError is a net-style timeout.
type timeoutError struct{}

func (*timeoutError) Error() string { return "i/o timeout" }
func (*timeoutError) Timeout() bool { return true }
