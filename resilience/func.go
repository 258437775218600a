package resilience

import (
	"context"
	"errors"
	"fmt"
)

// Func is one guarded operation: a call to a dependency that returns a
// result of type T or an error.
type Func[T any] func(ctx context.Context) (T, error)

// Policy decorates a [Func] with one resilience behaviour (a breaker, a
// timeout, a retry, …). Wrap is called once, when a pipeline is built; the
// Func it returns is called for every operation and must be safe for
// concurrent use.
type Policy[T any] interface {
	Wrap(next Func[T]) Func[T]
}

// PolicyFunc adapts an ordinary function to the [Policy] interface, as
// [net/http.HandlerFunc] does for handlers.
type PolicyFunc[T any] func(next Func[T]) Func[T]

// Wrap calls f(next).
func (f PolicyFunc[T]) Wrap(next Func[T]) Func[T] { return f(next) }

// ErrNilFunc is returned by a Func built around a nil function, and by
// [Execute] when it is given one. Wrap cannot return an error, so a nil
// function is reported on the first call instead of panicking.
var ErrNilFunc = errors.New("resilience: nil Func")

// ErrNilPolicy is matched (errors.Is) by the error [NewPipeline] returns when
// one of its policies is nil.
var ErrNilPolicy = errors.New("resilience: nil Policy")

// Pipeline composes policies around a [Func]. The first policy is the
// outermost: in NewPipeline(a, b, c), a sees the call first and the result
// last, and c sits next to the function.
//
// A Pipeline is itself a [Policy], so pipelines nest. Its zero value is an
// empty pipeline that passes calls straight through. It holds no mutable
// state and is safe for concurrent use; wrap a function once and reuse the
// result, since [Pipeline.Execute] rebuilds the chain on every call.
type Pipeline[T any] struct {
	policies []Policy[T]
}

// NewPipeline returns a pipeline of the given policies, first outermost. It
// refuses a nil policy with an error naming its position.
func NewPipeline[T any](policies ...Policy[T]) (Pipeline[T], error) {
	for i, p := range policies {
		if p == nil {
			return Pipeline[T]{}, fmt.Errorf("%w: policy %d of %d", ErrNilPolicy, i+1, len(policies))
		}
	}
	return Pipeline[T]{policies: append([]Policy[T](nil), policies...)}, nil
}

// Wrap returns next decorated by every policy of p, first outermost. A nil
// next yields a Func that fails every call with [ErrNilFunc].
func (p Pipeline[T]) Wrap(next Func[T]) Func[T] {
	if next == nil {
		return nilFunc[T]
	}
	for i := len(p.policies) - 1; i >= 0; i-- {
		next = p.policies[i].Wrap(next)
	}
	return next
}

// Execute wraps fn and calls it once. It allocates the chain on every call;
// hot paths should keep the result of [Pipeline.Wrap] instead.
func (p Pipeline[T]) Execute(ctx context.Context, fn Func[T]) (T, error) {
	return p.Wrap(fn)(ctx)
}

// Len reports how many policies p holds.
func (p Pipeline[T]) Len() int { return len(p.policies) }

// Execute runs fn once under the given policies, first outermost. It is the
// one-shot form of [NewPipeline] followed by [Pipeline.Execute], and returns
// [ErrNilPolicy] or [ErrNilFunc] instead of calling anything when an argument
// is nil.
func Execute[T any](ctx context.Context, fn Func[T], policies ...Policy[T]) (T, error) {
	p, err := NewPipeline(policies...)
	if err != nil {
		var zero T
		return zero, err
	}
	if fn == nil {
		return nilFunc[T](ctx)
	}
	return p.Wrap(fn)(ctx)
}

// Must returns v, or panics with err when err is not nil. It is meant for
// construction at program start (package variables, main, examples), where a
// bad configuration is a programming error, as with [regexp.MustCompile].
func Must[V any](v V, err error) V {
	if err != nil {
		panic(err)
	}
	return v
}

func nilFunc[T any](context.Context) (T, error) {
	var zero T
	return zero, ErrNilFunc
}
