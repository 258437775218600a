package sqlguard_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/sqlguard"
)

func TestGuardsSeeEveryCallThatReachesTheDatabase(t *testing.T) {
	f := newFake(true)
	rec := &recorder{}
	db := openDB(t, f, sqlguard.Config{Guards: []resilience.Guard{rec}})
	ctx := context.Background()

	require.NoError(t, db.PingContext(ctx)) // connect + ping
	_, err := db.ExecContext(ctx, "UPDATE t SET v = ?", 1)
	require.NoError(t, err)
	rows, err := db.QueryContext(ctx, "SELECT v FROM t")
	require.NoError(t, err)
	require.NoError(t, rows.Close())
	st, err := db.PrepareContext(ctx, "SELECT v FROM t WHERE v = ?")
	require.NoError(t, err)
	_, err = st.ExecContext(ctx, 1)
	require.NoError(t, err)
	require.NoError(t, st.QueryRowContext(ctx, 1).Scan(new(int64)))
	require.NoError(t, st.Close())
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, "UPDATE t SET v = 2")
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	tx, err = db.BeginTx(ctx, nil)
	require.NoError(t, err)
	require.NoError(t, tx.Rollback())

	// connect, ping, exec, query, prepare, stmt exec, stmt query, begin,
	// exec, commit, begin: 11; the rollback and the session resets are not
	// guarded.
	assert.Equal(t, 11, rec.calls())
	assert.Equal(t, 1, f.calls("rollback"))
	assert.Positive(t, f.calls("reset"))
}

func TestAnswersFromTheDatabaseAreSuccessesForTheGuards(t *testing.T) {
	for _, answer := range []error{errUnique, sql.ErrNoRows} {
		t.Run(answer.Error(), func(t *testing.T) {
			f := newFake(true)
			rec := &recorder{}
			db := openDB(t, f, sqlguard.Config{Guards: []resilience.Guard{rec}})
			f.fail("exec", answer)

			_, err := db.Exec("INSERT INTO t VALUES (1)")

			assert.Equal(t, answer, err, "the caller sees the driver's own error")
			outcome, seen := rec.last()
			assert.Equal(t, resilience.Success, outcome)
			var j *resilience.Judged
			require.ErrorAs(t, seen, &j, "the guards get the verdict as a *Judged")
			assert.Equal(t, resilience.Success, j.Outcome)
			assert.ErrorIs(t, seen, answer)
		})
	}
}

func TestConnectionErrorsAndTimeoutsAreFailures(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	for _, failure := range []error{io.ErrUnexpectedEOF, io.EOF, reset, context.DeadlineExceeded} {
		t.Run(failure.Error(), func(t *testing.T) {
			f := newFake(true)
			rec := &recorder{}
			db := openDB(t, f, sqlguard.Config{Guards: []resilience.Guard{rec}})
			f.fail("exec", failure)

			_, err := db.Exec("UPDATE t SET v = 1")

			assert.ErrorIs(t, err, failure)
			outcome, _ := rec.last()
			assert.Equal(t, resilience.Failure, outcome)
		})
	}
}

func TestBadConnectionIsLeftToDatabaseSQL(t *testing.T) {
	f := newFake(true)
	rec := &recorder{}
	db := openDB(t, f, sqlguard.Config{Guards: []resilience.Guard{rec}, Retry: retryUpTo(5),
		Retryable: func(error) bool { return true }})
	f.fail("exec", driver.ErrBadConn)

	_, err := db.ExecContext(sqlguard.Idempotent(context.Background()), "UPDATE t SET v = 1")

	require.NoError(t, err, "database/sql re-ran the statement on a fresh connection")
	assert.Equal(t, 2, f.calls("exec"), "not retried on the broken connection")
	assert.Equal(t, 2, f.calls("connect"))
	opened, closed := f.counts()
	assert.Equal(t, 2, opened)
	assert.Equal(t, 1, closed, "the broken connection was discarded")
	assert.Contains(t, rec.outcomes, resilience.Failure, "the breaker saw the failure")
}

func TestDriverErrSkipReachesDatabaseSQLUnchanged(t *testing.T) {
	f := newFake(true)
	rec := &recorder{}
	db := openDB(t, f, sqlguard.Config{Guards: []resilience.Guard{rec}})
	f.fail("exec", driver.ErrSkip)

	res, err := db.Exec("UPDATE t SET v = 1")

	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	assert.Equal(t, 1, f.calls("prepare"), "database/sql took the prepared path")
	assert.Equal(t, 1, f.calls("stmt-exec"))
	assert.NotContains(t, rec.outcomes, resilience.Failure)
}

func TestCallersCancellationIsIgnored(t *testing.T) {
	f := newFake(true)
	rec := &recorder{}
	db := openDB(t, f, sqlguard.Config{Guards: []resilience.Guard{rec}})
	require.NoError(t, db.Ping())
	ctx, cancel := context.WithCancel(context.Background())
	f.hook = func(_ context.Context, op string) {
		if op == "exec" {
			cancel()
		}
	}
	f.fail("exec", context.Canceled)

	_, err := db.ExecContext(ctx, "UPDATE t SET v = 1")

	assert.ErrorIs(t, err, context.Canceled)
	outcome, _ := rec.last()
	assert.Equal(t, resilience.Ignored, outcome)
}

func TestQueryRowsOutliveTheGuardsContext(t *testing.T) {
	f := newFake(true)
	type key struct{}
	// A guard that gives the call its own context and ends it on return,
	// as a timeout guard does.
	scoped := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		ctx, cancel := context.WithCancel(context.WithValue(ctx, key{}, "guard"))
		defer cancel()
		return next.Run(ctx)
	})
	db := openDB(t, f, sqlguard.Config{Guards: []resilience.Guard{scoped}})

	rows, err := db.Query("SELECT v FROM t")
	require.NoError(t, err)
	var got []int64
	for rows.Next() {
		var v int64
		require.NoError(t, rows.Scan(&v))
		got = append(got, v)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())

	assert.Equal(t, []int64{1, 2, 3}, got, "every row read after the guard returned")
	f.mu.Lock()
	qctx := f.lastCtx
	f.mu.Unlock()
	assert.Equal(t, "guard", qctx.Value(key{}), "the driver's context carries the guards' values")
	assert.Error(t, qctx.Err(), "closing the rows ended their context")
}

func TestGuardsCancellationReachesTheDriverWhileInFlight(t *testing.T) {
	f := newFake(true)
	var seen error
	f.hook = func(ctx context.Context, op string) {
		if op == "query" {
			seen = ctx.Err()
		}
	}
	gone := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		return next.Run(ctx)
	})
	db := openDB(t, f, sqlguard.Config{Guards: []resilience.Guard{gone}})
	require.NoError(t, db.Ping())

	rows, err := db.Query("SELECT v FROM t")
	require.NoError(t, err)
	assert.False(t, rows.Next())
	assert.ErrorIs(t, rows.Err(), context.Canceled)
	require.NoError(t, rows.Close())
	assert.ErrorIs(t, seen, context.Canceled)
}

func TestConcurrentCallsNeverOverlapOnAConnection(t *testing.T) {
	f := newFake(true)
	rec := &recorder{}
	db := openDB(t, f, sqlguard.Config{Guards: []resilience.Guard{rec}})
	db.SetMaxOpenConns(4)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 20 {
				_, err := db.Exec("UPDATE t SET v = 1")
				assert.NoError(t, err)
				rows, err := db.Query("SELECT v FROM t")
				if assert.NoError(t, err) {
					for rows.Next() {
					}
					assert.NoError(t, rows.Close())
				}
			}
		})
	}
	wg.Wait()
	assert.False(t, f.overlap.Load())
	assert.Equal(t, 16*20*2, f.calls("exec")+f.calls("query"))
}

func TestNilArgumentsFailCallsWithoutPanicking(t *testing.T) {
	db := sql.OpenDB(sqlguard.Wrap(nil, sqlguard.Config{}))
	assert.ErrorIs(t, db.Ping(), sqlguard.ErrNilConnector)
	require.NoError(t, db.Close())

	_, err := sqlguard.WrapDriver(nil, sqlguard.Config{}).Open("x")
	assert.ErrorIs(t, err, sqlguard.ErrNilConnector)

	_, err = sqlguard.Open("no-such-driver", "", sqlguard.Config{})
	assert.Error(t, err)

	f := newFake(true)
	db = openDB(t, f, sqlguard.Config{Guards: []resilience.Guard{nil}})
	assert.ErrorIs(t, db.Ping(), resilience.ErrNilPolicy)
	assert.Zero(t, f.calls("connect"))
}

var registerOnce sync.Once

func TestOpenGuardsARegisteredDriver(t *testing.T) {
	f := newFake(false)
	registerOnce.Do(func() { sql.Register("sqlguard-fake", fakeDriver{f}) })
	rec := &recorder{}
	db, err := sqlguard.Open("sqlguard-fake", "dsn", sqlguard.Config{Guards: []resilience.Guard{rec}})
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()

	_, err = db.Exec("UPDATE t SET v = 1")

	require.NoError(t, err)
	assert.Equal(t, 3, rec.calls(), "connect, prepare, statement exec")
	_, ok := db.Driver().(fakeDriver)
	assert.False(t, ok, "db.Driver() is the guarded driver")
}

func TestWrapDriverGuardsOpen(t *testing.T) {
	f := newFake(true)
	rec := &recorder{}
	d := sqlguard.WrapDriver(fakeDriver{f}, sqlguard.Config{Guards: []resilience.Guard{rec}})
	c, err := d.Open("dsn")
	require.NoError(t, err)
	require.NoError(t, c.Close())
	assert.Equal(t, 1, rec.calls())

	f.fail("connect", errors.New("refused"))
	_, err = d.Open("dsn")
	assert.Error(t, err)
}
