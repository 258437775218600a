package breaker

import (
	"context"

	"github.com/riprap-go/riprap/resilience"
)

// Guard runs the rest of a pipeline through the breaker, making
// *Breaker a [resilience.Guard]: it goes into a pipeline of any result type
// without a type argument, and many pipelines may share it.
//
// A call whose context is already done is neither admitted nor counted:
// Guard returns the context's error at once, so a caller whose deadline
// passed before the call began never counts against the dependency. A
// refused call returns a *[RejectedError] without running next. Otherwise
// the call's error is judged by the breaker's classifier (see
// [Config.Classifier]), after the verdict of a pipeline classifier
// ([resilience.Pipeline.WithClassifier]), which reaches the breaker as a
// [*resilience.Judged] error and always wins. A panic in next is recorded as
// a failure and goes on up the caller's stack unchanged.
//
// A nil *Breaker fails every call with [ErrNilBreaker].
func (b *Breaker) Guard(ctx context.Context, next resilience.Next) error {
	if b == nil {
		return ErrNilBreaker
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	permit, err := b.Allow()
	if err != nil {
		return err
	}
	finished := false
	defer func() {
		// Only a panic (or runtime.Goexit) gets here unfinished; not
		// recovering lets it continue with its original stack.
		if !finished {
			permit.finish(resilience.Failure, errPanicked)
		}
	}()
	err = next.Run(ctx)
	o := resilience.Success // what judge says of a nil error with no classifier of the breaker's own
	if err != nil || b.classify != nil {
		o = b.judge(ctx, err) // a classifier that panics leaves the call unfinished: a failure
	}
	finished = true
	permit.finish(o, err)
	return err
}

// judge classifies a call's error: a pipeline classifier's verdict first,
// then the configured classifier, then [resilience.DefaultOutcome].
func (b *Breaker) judge(ctx context.Context, err error) resilience.Outcome {
	if j := findJudged(err); j != nil && j.Outcome != resilience.Unclassified {
		return j.Outcome
	}
	if b.classify != nil {
		if o := b.classify(ctx, err); o != resilience.Unclassified {
			return o
		}
	}
	return resilience.DefaultOutcome(ctx, err)
}

// findJudged walks err's chain for a pipeline's verdict. errors.As would do,
// but its target escapes to the heap on every failed call.
func findJudged(err error) *resilience.Judged {
	for err != nil {
		switch e := err.(type) {
		case *resilience.Judged:
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
