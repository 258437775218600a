package chaos

import (
	"errors"
	"fmt"
)

// ErrInjected is matched (errors.Is) by every error an [Injector] makes up.
var ErrInjected = errors.New("chaos: injected fault")

// ErrNilInjector is returned by every call through a nil *Injector.
var ErrNilInjector = errors.New("chaos: nil Injector")

// InjectedError is the error of a call an injector failed on purpose. It
// matches [ErrInjected] and the error it carries with errors.Is. It is not
// a rejection: policies downstream judge it a failure, as they would the
// real fault it stands for.
type InjectedError struct {
	Name string // the injector's name
	Kind Kind   // what it injected
	Err  error  // the fault given to [Fault], or the error of a [Behavior]; may be nil
	errs []error
}

func newInjectedError(name string, kind Kind, err error) *InjectedError {
	e := &InjectedError{Name: name, Kind: kind, Err: err, errs: []error{ErrInjected}}
	if err != nil {
		e.errs = append(e.errs, err)
	}
	return e
}

// Error reads like `chaos: injected fault "bank outage": connection reset`.
func (e *InjectedError) Error() string {
	s := ErrInjected.Error()
	if e.Name != "" {
		s += fmt.Sprintf(" %q", e.Name)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrInjected and Err.
func (e *InjectedError) Unwrap() []error {
	if e.errs == nil { // an InjectedError made by hand
		return []error{ErrInjected, e.Err}
	}
	return e.errs
}
