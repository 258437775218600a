package pgstore

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/riprap-go/riprap/resilience"
)

// Code returns the SQLSTATE of a PostgreSQL error in err's chain
// ("23505", "40001", …), or "" when err carries none.
func Code(err error) string {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return ""
	}
	return pe.Code
}

// Classify judges PostgreSQL's errors for riprap's guards (a breaker), by
// SQLSTATE:
//
//   - failures, evidence that the database is not serving: class 08
//     (connection exception), 53 (insufficient resources: disk full, out
//     of memory, too many connections), 58 (system error: I/O), XX
//     (internal error, data corrupted); 57P01, 57P02, 57P03 (the server
//     shutting down, crashed, or starting up); 57014 (a statement
//     cancelled by statement_timeout); 55P03 (lock_timeout); 40001 and
//     40P01 (serialization failure, deadlock: the database did nothing and
//     the call may be retried, see [Retryable]); 40003 (completion
//     unknown);
//   - answers, successes for the guards: class 23 (integrity constraint:
//     a duplicate key, a CHECK), 22 (data exception), 42 (syntax error or
//     access rule), 0A (feature not supported), 25 (invalid transaction
//     state), P0 (raised by a function).
//
// Anything else, and any error once the caller's context has ended (its
// cancellation is not the database's fault), is left to sqlguard.Classify:
// [resilience.Unclassified].
func Classify(ctx context.Context, err error) resilience.Outcome {
	if ctx != nil && ctx.Err() != nil {
		return resilience.Unclassified
	}
	code := Code(err)
	if len(code) != 5 {
		return resilience.Unclassified
	}
	switch code {
	case "57P01", "57P02", "57P03", "57014", "55P03", "40001", "40P01", "40003":
		return resilience.Failure
	}
	switch code[:2] {
	case "08", "53", "58", "XX":
		return resilience.Failure
	case "23", "22", "42", "0A", "25", "P0":
		return resilience.Success
	}
	return resilience.Unclassified
}

// Retryable reports whether err is a serialization failure (40001) or a
// deadlock (40P01): PostgreSQL rolled the statement (and its transaction)
// back, so running it again is safe. Give it to sqlguard.Config.
func Retryable(err error) bool {
	switch Code(err) {
	case "40001", "40P01":
		return true
	}
	return false
}

// constraint reports whether err is an integrity constraint violation
// (class 23): the database refused a write that breaks a rule of the
// schema.
func constraint(err error) bool {
	c := Code(err)
	return len(c) == 5 && c[:2] == "23"
}
