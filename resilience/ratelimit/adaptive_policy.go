package ratelimit

import (
	"context"

	"github.com/riprap-go/riprap/resilience"
)

// NewAdaptivePolicy returns a [resilience.Policy] that admits each call
// through a and reports its outcome, judged by classify (nil means
// [resilience.DefaultOutcome] on the error). A panic in the call counts as
// a failure, then goes on to the caller. A refusal is a
// [resilience.Rejection] matching [ErrOverLimit].
func NewAdaptivePolicy[T any](a *Adaptive, classify resilience.Classifier[T]) (resilience.Policy[T], error) {
	if a == nil {
		return nil, ErrNilLimiter
	}
	if classify == nil {
		classify = resilience.Classify[T]()
	}
	return resilience.PolicyFunc[T](func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			next = func(context.Context) (T, error) { var z T; return z, resilience.ErrNilFunc }
		}
		return func(ctx context.Context) (v T, err error) {
			p, err := a.Acquire()
			if err != nil {
				return v, err
			}
			finished := false
			defer func() {
				if !finished { // panicking: record, and let the panic go on
					p.Done(resilience.Failure)
				}
			}()
			v, err = next(ctx)
			o := classify(ctx, v, err) // a classifier that panics leaves the call unfinished: a failure
			finished = true
			p.Done(o)
			return v, err
		}
	}), nil
}
