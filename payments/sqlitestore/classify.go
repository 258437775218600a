package sqlitestore

import (
	"context"
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/riprap-go/riprap/resilience"
)

// Code returns the primary SQLite result code of err (SQLITE_BUSY,
// SQLITE_CONSTRAINT, …), or 0 when err carries none.
func Code(err error) int {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return 0
	}
	return se.Code() & 0xff
}

// Classify judges SQLite's errors for riprap's guards (a breaker): a
// database that is locked, busy, out of space, read-only, unreadable or
// damaged is a failure; a constraint violation, a type mismatch or a
// malformed statement is the database answering, a success. Other errors
// are left to sqlguard.Classify ([resilience.Unclassified]).
func Classify(_ context.Context, err error) resilience.Outcome {
	switch Code(err) {
	case 0:
		return resilience.Unclassified
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_PERM, sqlite3.SQLITE_INTERRUPT:
		return resilience.Failure
	case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_ERROR, sqlite3.SQLITE_RANGE,
		sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_AUTH:
		return resilience.Success
	}
	return resilience.Unclassified
}

// Retryable reports whether err means SQLite did nothing because another
// connection held a lock (SQLITE_BUSY, SQLITE_LOCKED): the same statement
// may run again on the same connection. Give it to sqlguard.Config.
func Retryable(err error) bool {
	c := Code(err)
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}

// damage reports whether err says the file is damaged.
func damage(err error) bool {
	c := Code(err)
	return c == sqlite3.SQLITE_CORRUPT || c == sqlite3.SQLITE_NOTADB
}
