package resilience

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Rejection describes a call that a policy refused before it reached the
// dependency: a breaker that is open, a limiter out of tokens, a full
// bulkhead, a dependency known to be unhealthy. For a payment it means "not
// attempted, safe to try again", unlike a failure, whose effect is unknown.
//
// *Rejection is an error; it unwraps to Reason, so errors.Is matches the
// refusing package's sentinel (breaker.ErrOpen, ratelimit.ErrLimited, …).
type Rejection struct {
	// Policy is the kind of policy that refused: "breaker", "ratelimit",
	// "bulkhead", "health", ….
	Policy string
	// Name is the instance that refused ("bank"); it may be empty.
	Name string
	// Reason is the refusing package's sentinel error.
	Reason error
	// RetryAfter is how long the policy expects to keep refusing; zero when
	// it does not know.
	RetryAfter time.Duration
}

// Rejecter is implemented by every rejection error. Policies that can say
// more cheaply by computing it on demand (a breaker's remaining open time)
// implement it on their own types; [Rejection] implements it for the rest.
type Rejecter interface {
	error
	Rejection() Rejection
}

// Reject returns a *[Rejection] error.
func Reject(policy, name string, reason error, retryAfter time.Duration) error {
	return &Rejection{Policy: policy, Name: name, Reason: reason, RetryAfter: retryAfter}
}

// Error reads like "breaker: circuit open (name "bank", retry after 2s)".
func (r *Rejection) Error() string {
	var b strings.Builder
	if r.Reason != nil {
		b.WriteString(r.Reason.Error())
	} else {
		b.WriteString(r.Policy + ": rejected")
	}
	if r.Name == "" && r.RetryAfter <= 0 {
		return b.String()
	}
	b.WriteString(" (")
	if r.Name != "" {
		fmt.Fprintf(&b, "name %q", r.Name)
		if r.RetryAfter > 0 {
			b.WriteString(", ")
		}
	}
	if r.RetryAfter > 0 {
		b.WriteString("retry after " + r.RetryAfter.String())
	}
	b.WriteString(")")
	return b.String()
}

// Unwrap returns Reason.
func (r *Rejection) Unwrap() error { return r.Reason }

// Rejection returns a copy of r.
func (r *Rejection) Rejection() Rejection { return *r }

// IsRejected reports whether err, or any error it wraps, is a rejection:
// the call never reached the dependency. It allocates nothing: it runs on
// every failed call of every policy that classifies outcomes.
func IsRejected(err error) bool { return findRejecter(err) != nil }

// AsRejection returns the details of the first rejection in err's chain.
func AsRejection(err error) (Rejection, bool) {
	r := findRejecter(err)
	if r == nil {
		return Rejection{}, false
	}
	return r.Rejection(), true
}

// findRejecter walks err's chain as errors.As does, depth first, with type
// assertions: errors.As would make its target escape to the heap on every
// call. An error with its own As method hands the rest of the walk to
// errors.As, so such errors keep their meaning.
func findRejecter(err error) Rejecter {
	for err != nil {
		if r, ok := err.(Rejecter); ok {
			return r
		}
		if _, ok := err.(interface{ As(any) bool }); ok {
			var r Rejecter
			if errors.As(err, &r) {
				return r
			}
			return nil
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if r := findRejecter(e); r != nil {
					return r
				}
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}

// RetryAfter returns how long to wait before trying again, as said by the
// first error in err's chain that knows: a rejection with a positive
// RetryAfter, or any error with a method RetryAfter() time.Duration (such as
// those made by [WithRetryAfter], or an HTTP client's 503 error). ok is false
// when no error in the chain gives a positive duration.
func RetryAfter(err error) (d time.Duration, ok bool) {
	for err != nil {
		switch e := err.(type) {
		case Rejecter:
			if d := e.Rejection().RetryAfter; d > 0 {
				return d, true
			}
		case interface{ RetryAfter() time.Duration }:
			if d := e.RetryAfter(); d > 0 {
				return d, true
			}
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if d, ok := RetryAfter(e); ok {
					return d, true
				}
			}
			return 0, false
		default:
			return 0, false
		}
	}
	return 0, false
}

// WithRetryAfter returns err annotated with a hint that the dependency asked
// callers to wait d before trying again (a Retry-After header). The result
// is still a failure, not a rejection; errors.Is and errors.As see err
// through it, and [RetryAfter] reports d. A nil err stays nil.
func WithRetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err: err, after: d}
}

type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string {
	return e.err.Error() + " (retry after " + e.after.String() + ")"
}
func (e *retryAfterError) Unwrap() error             { return e.err }
func (e *retryAfterError) RetryAfter() time.Duration { return e.after }
