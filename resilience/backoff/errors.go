package backoff

import (
	"errors"
	"strconv"
	"strings"
)

// Why a [Retry] stopped although the last error was retryable. A
// [*RetryError] wraps one of them (or the caller's context error) next to
// the last error, so errors.Is tells the reasons apart.
var (
	// ErrBudgetExhausted: the shared [Budget] refused the retry.
	ErrBudgetExhausted = errors.New("backoff: retry budget exhausted")
	// ErrMaxAttempts: the retry ran its MaxAttempts.
	ErrMaxAttempts = errors.New("backoff: attempts exhausted")
	// ErrMaxDuration: the next wait would end past MaxDuration.
	ErrMaxDuration = errors.New("backoff: retry duration exhausted")
	// ErrDeadline: the next wait would end at or past the caller's
	// context deadline, so the retry did not start it.
	ErrDeadline = errors.New("backoff: next wait would pass the context deadline")
	// ErrRefusedAhead: [RetryConfig.Admit] said the next attempt would be
	// refused (an inner breaker is open), so the retry did not wait for
	// it. The Stop of the [*RetryError] wraps it together with Admit's
	// answer as text, never as an error: the call is not a rejection,
	// since an earlier attempt may have reached the dependency.
	ErrRefusedAhead = errors.New("backoff: the next attempt would be refused")
)

// PermanentError marks an error that must not be retried; see [Permanent].
// It is transparent to errors.Is and errors.As. Build it with Permanent: a
// zero PermanentError wraps nothing.
type PermanentError struct {
	Err error
}

// Permanent wraps err so that a [Retry] stops at once; the error they
// return still matches err with errors.Is and errors.As. A nil err stays
// nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked by
// [Permanent].
func IsPermanent(err error) bool {
	// A walk by type assertions: errors.As would move its target to the
	// heap on every failed attempt. An error with its own As method hands
	// the rest of the walk to errors.As, so such errors keep their meaning.
	for err != nil {
		switch e := err.(type) {
		case *PermanentError:
			return true
		case interface{ As(any) bool }:
			var p *PermanentError
			return errors.As(err, &p)
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				if IsPermanent(inner) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// Error returns the wrapped error's text unchanged.
func (e *PermanentError) Error() string {
	if e.Err == nil {
		return "backoff: permanent error"
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *PermanentError) Unwrap() error { return e.Err }

// RetryError is the error of a retried call that ended without success. It
// wraps the last error of the rest of the pipeline and, when retrying
// stopped for another reason than that error not being retryable, that
// reason:
// [ErrMaxAttempts], [ErrMaxDuration], [ErrDeadline], [ErrBudgetExhausted],
// or the caller's context error. errors.Is and errors.As see both, and so
// do [resilience.IsRejected] and [resilience.DefaultOutcome]: a retry that
// ended on a rejection is still a rejection to an outer breaker, and one
// the caller cancelled is still the caller's cancellation. It is built by
// the [Retry] and not changed afterwards; a zero RetryError is not
// meaningful.
type RetryError struct {
	// Attempts is how many times the function ran, at least 1.
	Attempts int
	// Err is the last error the rest of the pipeline returned; for a
	// result the pipeline's classifier judged a failure, a
	// [*resilience.Judged].
	Err error
	// Stop is why retrying stopped, or nil when Err was not retryable.
	Stop error
}

// Error reads like "backoff: 3 attempts, attempts exhausted: bank: 503".
func (e *RetryError) Error() string {
	var b strings.Builder
	b.WriteString("backoff: ")
	b.WriteString(strconv.Itoa(e.Attempts))
	if e.Attempts == 1 {
		b.WriteString(" attempt")
	} else {
		b.WriteString(" attempts")
	}
	if e.Stop != nil && !errors.Is(e.Err, e.Stop) {
		b.WriteString(", ")
		b.WriteString(strings.TrimPrefix(e.Stop.Error(), "backoff: "))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the last error and the reason to stop, leaving out nils.
func (e *RetryError) Unwrap() []error {
	switch {
	case e.Stop == nil:
		return []error{e.Err}
	case e.Err == nil:
		return []error{e.Stop}
	}
	return []error{e.Err, e.Stop}
}
