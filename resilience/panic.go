package resilience

import (
	"fmt"
	"runtime/debug"
)

// PanicError carries a panic from the goroutine where a guarded function ran
// to the caller's goroutine, where policies re-raise it with panic. It keeps
// the original value and the stack at the point of the panic.
type PanicError struct {
	Value any
	Stack []byte
}

// NewPanicError captures v and the current goroutine's stack. Call it from
// the deferred function that recovered v.
func NewPanicError(v any) *PanicError {
	return &PanicError{Value: v, Stack: debug.Stack()}
}

// Error reports the panic value and the stack where it happened.
func (p *PanicError) Error() string {
	return fmt.Sprintf("resilience: recovered panic: %v\n\n%s", p.Value, p.Stack)
}

// Unwrap returns the panic value when it is an error.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}
