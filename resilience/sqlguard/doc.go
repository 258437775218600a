// Package sqlguard runs every call a [database/sql.DB] makes to its driver
// through riprap guards — a breaker, a concurrency limit, a timeout, a retry —
// without changing a single call site.
//
// # Why a driver.Connector
//
// [Wrap] decorates a [database/sql/driver.Connector] (and [WrapDriver] a
// driver) instead of offering guarded copies of the *sql.DB methods. At the
// connector, every call that reaches the database is seen, whatever form the
// caller used: DB.QueryContext, Tx.ExecContext, a prepared Stmt, Conn.Raw,
// QueryRow, or an ORM that holds a *sql.DB. database/sql keeps doing what
// it does best (pooling, retrying driver.ErrBadConn on a fresh connection,
// closing rows when the caller's context ends), and the guards measure what
// the database did, one driver call at a time: a breaker counts a failed
// connect as well as a failed statement, and a concurrency limit bounds the
// calls in flight, not the callers waiting for the pool. Wrapping the *sql.DB
// methods would miss Stmt, Tx and Conn unless each were wrapped too, and would
// count database/sql's own transparent bad-connection retries as one call.
//
// # What is guarded
//
// [Config.Guards] run, first outermost, around each call that talks to the
// database: Connect, Exec, Query, Prepare, BeginTx, Commit and Ping, on a
// connection or a prepared statement. Rollback, Close, ResetSession and
// IsValid are never guarded: a transaction must always be able to end and a
// connection to be closed, whatever a breaker thinks. A Commit that a guard
// refuses never reached the database, so sqlguard reports it with
// driver.ErrBadConn as well: database/sql then discards the connection (which
// rolls the transaction back) instead of pooling it with a transaction open.
//
// Rows are read outside the guards: a query's guards cover the call that
// starts it. The context the driver sees follows the guards' context (a
// timeout) while that call is in flight, then only the caller's context until
// the rows are closed, so a timeout guard finishing its call never cuts off
// rows the caller is still reading.
//
// Driver calls on one connection never overlap: database/sql guarantees it,
// and sqlguard keeps the guarantee even for a guard that abandons an attempt
// (a timeout in abandon mode) by waiting for the attempt before handing the
// connection back. An abandoning timeout therefore cannot return earlier
// than the driver; use a cooperative one.
//
// # Outcomes
//
// A failed Connect is a failure, whatever its error says. Every other
// driver error is judged by [Config.Classify] ([Classify] by default):
// a connection error or a timeout is a failure; an answer from the database
// (no rows, a constraint violation, a syntax error) is a success, so a
// unique-key violation never trips a breaker. A verdict that differs from
// [resilience.DefaultOutcome] reaches the guards as a [*resilience.Judged]
// error; the caller always sees the driver's own error. Errors only a
// driver can read (SQLite's SQLITE_BUSY, a Postgres SQLSTATE) are classified
// by a function that lives with the driver, in the driver's module, and is
// given as Config.Classify.
//
// # Retries
//
// [Config.Retry] re-runs a call only when that cannot do harm: a Connect
// that failed (nothing was sent yet); a Prepare, BeginTx or Ping outside a
// transaction whose error [Config.Retryable] accepts (they change nothing);
// and an Exec or Query outside a transaction whose error Retryable accepts
// and whose context the caller marked with [Idempotent]. Nothing inside a
// transaction is retried, and a Commit never is. driver.ErrBadConn is left
// to database/sql, which re-runs the call on a fresh connection — retrying
// it on the connection that just failed would only fail again.
package sqlguard
