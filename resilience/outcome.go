package resilience

import (
	"context"
	"errors"
)

// Outcome is how a policy judges one call: as evidence that the dependency
// works (Success), that it does not (Failure), or as no evidence at all
// (Ignored).
type Outcome uint8

// The outcomes. Unclassified is the zero value: a [Classifier] returns it to
// say "no opinion, ask the next one".
const (
	Unclassified Outcome = iota
	Success
	Failure
	Ignored
)

// String returns "success", "failure", "ignored" or "unclassified".
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Failure:
		return "failure"
	case Ignored:
		return "ignored"
	}
	return "unclassified"
}

// ErrorClassifier judges a call from its error alone. Non-generic components
// (a breaker shared by calls of several result types) take this form. ctx is
// the context the caller passed in, so the classifier can tell the caller's
// own cancellation from a failure of the dependency.
type ErrorClassifier func(ctx context.Context, err error) Outcome

// Classifier judges a call from its result and its error, so that a result
// can be a failure without an error (an HTTP 503 response, say). It may
// return [Unclassified] to defer to the next classifier; see [Classify].
type Classifier[T any] func(ctx context.Context, result T, err error) Outcome

// DefaultOutcome is the classification every policy uses unless told
// otherwise:
//
//   - a nil error is Success;
//   - a [*Judged] error anywhere in the chain carries its own verdict;
//   - a rejection by another policy ([IsRejected]) is Ignored: the call never
//     reached the dependency, so it says nothing about it;
//   - the caller's own cancellation (its context was cancelled, and err is
//     or wraps that context's error or cause) is Ignored: the caller went
//     away, the dependency did not fail;
//   - the caller's own deadline passing while the call was in flight is a
//     Failure: the dependency did not answer within the time it was given.
//     Guards in this module never start a call whose context is already
//     done, so a deadline that passed before the call began is never
//     judged at all;
//   - anything else is Failure.
//
// So a handler whose request deadline is the only timeout still trips its
// breaker when the dependency hangs, while a user who closes the page never
// does.
func DefaultOutcome(ctx context.Context, err error) Outcome {
	if err == nil {
		return Success
	}
	if j := findJudged(err); j != nil {
		return j.Outcome
	}
	if IsRejected(err) || callerCancelled(ctx, err) {
		return Ignored
	}
	return Failure
}

// callerCancelled reports whether err is the caller's own context ending by
// cancellation rather than by its deadline.
func callerCancelled(ctx context.Context, err error) bool {
	if ctx == nil {
		return false
	}
	cerr := ctx.Err()
	if cerr == nil || errors.Is(cerr, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, cerr) {
		return true
	}
	cause := context.Cause(ctx)
	return cause != cerr && errors.Is(err, cause)
}

// Judged is an error that carries a pipeline classifier's verdict to the
// guards: a result judged a failure (Err is nil: the call returned a value
// and no error), or an error judged a success (an answer such as "not
// found"). [DefaultOutcome] returns its Outcome. [Pipeline.Execute] unwraps
// it before the caller sees it; see [Pipeline.WithClassifier].
type Judged struct {
	Outcome Outcome
	Err     error
}

// Error describes the verdict.
func (j *Judged) Error() string {
	if j.Err == nil {
		return "resilience: result judged " + j.Outcome.String()
	}
	return j.Err.Error()
}

// Unwrap returns Err.
func (j *Judged) Unwrap() error { return j.Err }

// findJudged walks err's chain without allocating.
func findJudged(err error) *Judged {
	for err != nil {
		switch e := err.(type) {
		case *Judged:
			return e
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				if j := findJudged(inner); j != nil {
					return j
				}
			}
			return nil
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		default:
			return nil
		}
	}
	return nil
}

// Classify returns a classifier that asks each of cs in turn and keeps the
// first answer other than [Unclassified]; when every one defers (or cs is
// empty) it falls back to [DefaultOutcome]. Nil entries are skipped.
func Classify[T any](cs ...Classifier[T]) Classifier[T] {
	var live []Classifier[T]
	for _, c := range cs {
		if c != nil {
			live = append(live, c)
		}
	}
	return func(ctx context.Context, v T, err error) Outcome {
		for _, c := range live {
			if o := c(ctx, v, err); o != Unclassified {
				return o
			}
		}
		return DefaultOutcome(ctx, err)
	}
}

// ClassifyErrors is [Classify] for error classifiers: the first answer other
// than [Unclassified] wins, and [DefaultOutcome] decides when all defer.
func ClassifyErrors(ecs ...ErrorClassifier) ErrorClassifier {
	var live []ErrorClassifier
	for _, c := range ecs {
		if c != nil {
			live = append(live, c)
		}
	}
	return func(ctx context.Context, err error) Outcome {
		for _, c := range live {
			if o := c(ctx, err); o != Unclassified {
				return o
			}
		}
		return DefaultOutcome(ctx, err)
	}
}

// ForResults lifts an [ErrorClassifier] to a [Classifier] of any result
// type, so a breaker's error rules can be reused by a result-aware adapter.
func ForResults[T any](ec ErrorClassifier) Classifier[T] {
	if ec == nil {
		return nil
	}
	return func(ctx context.Context, _ T, err error) Outcome { return ec(ctx, err) }
}
