package sqlguard

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/riprap-go/riprap/resilience"
)

// Classify is the default judgement of a driver's error, for the guards:
//
//   - nil is a success;
//   - sql.ErrNoRows, driver.ErrSkip and driver.ErrRemoveArgument are
//     successes: the database (or the driver) answered;
//   - a [*resilience.Judged] error, a rejection by another guard and the
//     caller's own cancellation are judged as [resilience.DefaultOutcome]
//     judges them (the verdict, ignored, ignored);
//   - an error returned once the call's context had ended is judged by
//     that context: its deadline passing while the call was in flight is a
//     failure (the database did not answer in the time it was given), a
//     cancellation is ignored;
//   - a connection error (driver.ErrBadConn, a [net.Error], io.EOF,
//     io.ErrUnexpectedEOF, a reset or refused connection, a broken pipe) and
//     a timeout (context.DeadlineExceeded, os.ErrDeadlineExceeded, any error
//     whose Timeout method reports true) are failures;
//   - anything else is an answer from the database — a constraint
//     violation, a syntax error, a serialization conflict — and a success
//     for the guards, so that a unique-key violation never trips a breaker.
//
// The last rule is why a driver's module should supply its own classifier
// (see [Config.Classify]): only it can tell "disk I/O error" or "database
// is locked" from an answer.
func Classify(ctx context.Context, err error) resilience.Outcome {
	var j *resilience.Judged
	switch {
	case err == nil:
		return resilience.Success
	case errors.As(err, &j):
		return j.Outcome
	case errors.Is(err, sql.ErrNoRows), errors.Is(err, driver.ErrSkip), errors.Is(err, driver.ErrRemoveArgument):
		return resilience.Success
	}
	if o := resilience.DefaultOutcome(ctx, err); o != resilience.Failure {
		return o
	}
	if ctx != nil && ctx.Err() != nil {
		return resilience.DefaultOutcome(ctx, ctx.Err())
	}
	if IsConnectionError(err) || isTimeout(err) {
		return resilience.Failure
	}
	return resilience.Success
}

// IsConnectionError reports whether err says the connection to the
// database failed, rather than the database answering: driver.ErrBadConn,
// a [net.Error], io.EOF, io.ErrUnexpectedEOF, a refused, reset or aborted
// connection, or a broken pipe.
func IsConnectionError(err error) bool {
	var ne net.Error
	switch {
	case err == nil:
		return false
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		return true
	}
	return errors.As(err, &ne)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return true
	case errors.As(err, &t):
		return t.Timeout()
	}
	return false
}
