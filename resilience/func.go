package resilience

import (
	"context"
	"errors"
)

// Func is one guarded operation: a call to a dependency that returns a
// result of type T or an error.
type Func[T any] func(ctx context.Context) (T, error)

// Policy decorates a [Func] with one behaviour that needs to know the
// result type (a fallback value, a hedge that picks the first good result).
// Wrap is called when a function is wrapped; the Func it returns must be
// safe for concurrent use.
//
// Most policies do not need the result type and implement [Guard] instead,
// which composes into a [Pipeline] of any T without a type argument. A
// Policy goes into a pipeline through [Adapt].
type Policy[T any] interface {
	Wrap(next Func[T]) Func[T]
}

// PolicyFunc adapts an ordinary function to the [Policy] interface, as
// [net/http.HandlerFunc] does for handlers.
type PolicyFunc[T any] func(next Func[T]) Func[T]

// Wrap calls f(next).
func (f PolicyFunc[T]) Wrap(next Func[T]) Func[T] { return f(next) }

// ErrNilFunc is returned by a call made with a nil function. Wrap cannot
// return an error, so a nil function is reported on the first call instead
// of panicking.
var ErrNilFunc = errors.New("resilience: nil Func")

// ErrNilPolicy is returned by every call through a pipeline that was built
// with a nil [Guard] or [Policy], naming its position.
var ErrNilPolicy = errors.New("resilience: nil policy")

func nilFunc[T any](context.Context) (T, error) {
	var zero T
	return zero, ErrNilFunc
}
