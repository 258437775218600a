package timeout

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrTimeout is matched (errors.Is) by the error a call returns when the
// timeout's own deadline fired. That error also matches
// [context.DeadlineExceeded].
var ErrTimeout = errors.New("timeout: deadline exceeded")

// errNilTimeout is what a nil *Timeout in a pipeline returns: a programmer
// error reported on the call, never a panic.
var errNilTimeout = errors.New("timeout: nil *Timeout")

// Error is returned when the timeout's own deadline fired, and is the
// [context.Cause] of the context the function ran under (and of every
// context derived from it). It matches [ErrTimeout] and
// [context.DeadlineExceeded] with errors.Is, and unwraps to the error the
// function returned, if any.
type Error struct {
	// Name is the timeout's configured name; it may be empty.
	Name string
	// Timeout is the bound that was exceeded.
	Timeout time.Duration
	// Err is what the function returned, or nil when it was abandoned or
	// when the error is a context's cause.
	Err error
}

// Error says which deadline fired.
func (e *Error) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("timeout: %q deadline of %s exceeded", e.Name, e.Timeout)
	}
	return fmt.Sprintf("timeout: deadline of %s exceeded", e.Timeout)
}

// Unwrap returns ErrTimeout, context.DeadlineExceeded and the function's
// error.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrTimeout, context.DeadlineExceeded}
	}
	return []error{ErrTimeout, context.DeadlineExceeded, e.Err}
}
