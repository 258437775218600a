package breaker

import (
	"context"

	"github.com/riprap-go/riprap/resilience"
)

// Policy returns a [resilience.Policy] that guards calls with b. Many
// policies, of different result types, may share one breaker.
//
// Each call is judged by the classifiers in order, the first answer other
// than [resilience.Unclassified] winning, then by b's own classifier (see
// [Config.Classifier]); so a result can be a failure without an error (an
// HTTP 503 response). A refused call returns the zero T and a
// *[RejectedError] without calling the function. A panic in the function is
// recorded as a failure and goes on up the caller's stack.
//
// A nil b yields a policy whose calls fail with [ErrNilBreaker]. The
// policy holds no state of its own and is safe for concurrent use.
func Policy[T any](b *Breaker, classifiers ...resilience.Classifier[T]) resilience.Policy[T] {
	p := &policy[T]{b: b}
	for _, c := range classifiers {
		if c != nil {
			p.classifiers = append(p.classifiers, c)
		}
	}
	return p
}

type policy[T any] struct {
	b           *Breaker
	classifiers []resilience.Classifier[T]
}

func (p *policy[T]) Wrap(next resilience.Func[T]) resilience.Func[T] {
	switch {
	case next == nil:
		return fail[T](resilience.ErrNilFunc)
	case p.b == nil:
		return fail[T](ErrNilBreaker)
	}
	return func(ctx context.Context) (T, error) {
		permit, err := p.b.Allow()
		if err != nil {
			var zero T
			return zero, err
		}
		finished := false
		defer func() {
			// Only a panic (or runtime.Goexit) gets here unfinished; not
			// recovering lets it continue with its original stack.
			if !finished {
				permit.finish(resilience.Failure, errPanicked)
			}
		}()
		v, err := next(ctx)
		o := p.judge(ctx, v, err) // a classifier that panics leaves the call unfinished: a failure
		finished = true
		permit.finish(o, err)
		return v, err
	}
}

func (p *policy[T]) judge(ctx context.Context, v T, err error) resilience.Outcome {
	for _, c := range p.classifiers {
		if o := c(ctx, v, err); o != resilience.Unclassified {
			return o
		}
	}
	return p.b.judge(ctx, err)
}

func fail[T any](err error) resilience.Func[T] {
	return func(context.Context) (T, error) {
		var zero T
		return zero, err
	}
}
