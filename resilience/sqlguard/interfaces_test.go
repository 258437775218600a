package sqlguard_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/sqlguard"
)

// resetOnly and validateOnly are connections with one of the two
// interfaces whose presence alone changes what database/sql does.
type resetOnly struct{ *bareConn }

func (c resetOnly) ResetSession(ctx context.Context) error { return c.do(ctx, "reset") }

type validateOnly struct{ *bareConn }

func (c validateOnly) IsValid() bool { return true }

var connKinds = map[string]func(*bareConn) driver.Conn{
	"bare":          func(b *bareConn) driver.Conn { return b },
	"full":          func(b *bareConn) driver.Conn { return &fullConn{b} },
	"reset only":    func(b *bareConn) driver.Conn { return resetOnly{b} },
	"validate only": func(b *bareConn) driver.Conn { return validateOnly{b} },
}

// TestDatabaseSQLBehavesAsWithoutTheWrapper runs the same calls through
// database/sql on a driver with and without sqlguard, for drivers with
// every optional interface and with none, and compares what the caller got
// and what the driver was asked, call by call: a missing interface would
// silently change the path database/sql takes (preparing instead of
// executing, another argument check, no ping, another isolation error).
func TestDatabaseSQLBehavesAsWithoutTheWrapper(t *testing.T) {
	for name, kind := range connKinds {
		t.Run(name, func(t *testing.T) {
			plain, guarded := newFake(false), newFake(false)
			plain.make, guarded.make = kind, kind
			want, wantLog := transcript(t, sql.OpenDB(plain)), plain.log
			rec := &recorder{}
			got, gotLog := transcript(t, sql.OpenDB(sqlguard.Wrap(guarded, sqlguard.Config{Guards: []resilience.Guard{rec}}))), guarded.log

			assert.Equal(t, want, got, "what the caller saw")
			assert.Equal(t, wantLog, gotLog, "what the driver was asked")
			assert.Positive(t, rec.calls())
		})
	}
}

func transcript(t *testing.T, db *sql.DB) []string {
	t.Helper()
	db.SetMaxOpenConns(1)
	defer func() { require.NoError(t, db.Close()) }()
	var out []string
	note := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	ctx := context.Background()

	note("ping: %v", db.PingContext(ctx))
	_, err := db.ExecContext(ctx, "UPDATE t SET v = ?", 7)
	note("exec: %v", err)
	_, err = db.ExecContext(ctx, "UPDATE t SET v = :v", sql.Named("v", 7))
	note("exec named: %v", err)
	rows, err := db.QueryContext(ctx, "SELECT v FROM t")
	note("query: %v", err)
	if err == nil {
		types, err := rows.ColumnTypes()
		require.NoError(t, err)
		for _, ct := range types {
			length, hasLength := ct.Length()
			nullable, hasNullable := ct.Nullable()
			p, s, hasPS := ct.DecimalSize()
			note("column %s %s %v %d %v %v %v %d %d %v", ct.Name(), ct.DatabaseTypeName(), ct.ScanType(),
				length, hasLength, nullable, hasNullable, p, s, hasPS)
		}
		for rows.Next() {
			var v int64
			note("row %v %d", rows.Scan(&v), v)
		}
		note("next result set %v, err %v", rows.NextResultSet(), rows.Err())
		require.NoError(t, rows.Close())
	}
	st, err := db.PrepareContext(ctx, "SELECT v FROM t WHERE v = ?")
	note("prepare: %v", err)
	if err == nil {
		_, err = st.ExecContext(ctx, 1)
		note("stmt exec: %v", err)
		var v int64
		note("stmt query: %v %d", st.QueryRowContext(ctx, 1).Scan(&v), v)
		require.NoError(t, st.Close())
	}
	for _, opts := range []*sql.TxOptions{{Isolation: sql.LevelSerializable}, {ReadOnly: true}, nil} {
		tx, err := db.BeginTx(ctx, opts)
		note("begin %v: %v", opts, err)
		if err == nil {
			_, err = tx.ExecContext(ctx, "UPDATE t SET v = 1")
			note("tx exec: %v", err)
			note("commit: %v", tx.Commit())
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	note("rollback: %v", tx.Rollback())
	return out
}

func TestConnectionsKeepTheInterfacesWhosePresenceMatters(t *testing.T) {
	for name, kind := range connKinds {
		t.Run(name, func(t *testing.T) {
			f := newFake(false)
			f.make = kind
			plain := kind(&bareConn{f: f})
			_, wantReset := plain.(driver.SessionResetter)
			_, wantValid := plain.(driver.Validator)
			db := openDB(t, f, sqlguard.Config{})
			c, err := db.Conn(context.Background())
			require.NoError(t, err)
			defer func() { require.NoError(t, c.Close()) }()

			require.NoError(t, c.Raw(func(dc any) error {
				_, reset := dc.(driver.SessionResetter)
				_, valid := dc.(driver.Validator)
				assert.Equal(t, wantReset, reset, "SessionResetter")
				assert.Equal(t, wantValid, valid, "Validator")
				u, ok := dc.(interface{ Unwrap() driver.Conn })
				if assert.True(t, ok, "Unwrap") {
					assert.IsType(t, plain, u.Unwrap())
				}
				for _, has := range []bool{
					is[driver.ExecerContext](dc), is[driver.QueryerContext](dc), is[driver.ConnPrepareContext](dc),
					is[driver.ConnBeginTx](dc), is[driver.Pinger](dc), is[driver.NamedValueChecker](dc),
				} {
					assert.True(t, has)
				}
				return nil
			}))
		})
	}
}

func is[I any](v any) bool {
	_, ok := v.(I)
	return ok
}

func TestColumnConverterIsUsedOnlyWhenTheStatementHasOne(t *testing.T) {
	for _, full := range []bool{true, false} {
		f := newFake(full)
		db := openDB(t, f, sqlguard.Config{})
		st, err := db.Prepare("UPDATE t SET v = ?")
		require.NoError(t, err)
		_, err = st.Exec(1)
		require.NoError(t, err)
		require.NoError(t, st.Close())
		assert.Equal(t, full, f.calls("convert") > 0, "full=%v", full)
		assert.Equal(t, full, f.calls("check") > 0, "full=%v", full)
	}
}
