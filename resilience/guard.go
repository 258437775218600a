package resilience

import (
	"context"
	"fmt"
	"reflect"
)

// Guard is a policy that does not need to know the result type: a breaker, a
// limiter, a bulkhead, a health gate, a timeout, a retry. It runs the rest of
// the pipeline through next, as many times as it likes (a retry) or not at
// all (a refusal), and returns the error the call ends with.
//
// One Guard serves pipelines of every result type, so a breaker protecting a
// bank is shared by the calls returning receipts and those returning
// statuses, and goes into [NewPipeline] without a type argument.
//
// Guard must be safe for concurrent use. It must not keep next after it
// returns, except through [Next.Fork], whose result it then discards or
// adopts: the pipeline reuses a call's record for a later call once the
// call has ended, and a kept Next would then run or read that other call.
type Guard interface {
	Guard(ctx context.Context, next Next) error
}

// GuardFunc adapts an ordinary function to the [Guard] interface.
type GuardFunc func(ctx context.Context, next Next) error

// Guard calls f(ctx, next).
func (f GuardFunc) Guard(ctx context.Context, next Next) error { return f(ctx, next) }

// Next is the rest of a pipeline, as seen by a [Guard]: the guards inside it
// and, innermost, the caller's function. The zero Next fails every call
// with [ErrNilFunc].
//
// A Next belongs to one call. It is not safe for concurrent use: a guard that
// runs attempts in parallel (a hedge, an abandoning timeout) gives each its
// own [Next.Fork].
type Next struct {
	c caller
	i int
}

// caller is one call through a pipeline, typed by the pipeline's result.
type caller interface {
	run(ctx context.Context, i int) error
	fork() caller
	adopt(from caller)
	// pin keeps the call, and any it is nested in, from being reused once
	// it ends: something may still fork it.
	pin()
	// shape names the call's result for error messages: "Pipeline[int]",
	// "Chain".
	shape() string
}

// Run runs the rest of the pipeline once and returns its error. The result
// of the latest Run is the one the pipeline returns.
func (n Next) Run(ctx context.Context) error {
	if n.c == nil {
		return ErrNilFunc
	}
	return n.c.run(ctx, n.i)
}

// Fork returns a Next over the same rest of the pipeline with its own result
// slot, for an attempt that runs on another goroutine. A fork's result
// reaches the caller only through [Next.Adopt]. Fork may be called while
// Run of the same Next is in progress on another goroutine: it copies only
// what the call was built with, never the result slot (a hedge forks the
// rest of the pipeline only once its delay has passed).
func (n Next) Fork() Next {
	if n.c == nil {
		return n
	}
	return Next{c: n.c.fork(), i: n.i}
}

// pin keeps n's call from being reused after it ends.
func (n Next) pin() {
	if n.c != nil {
		n.c.pin()
	}
}

// Adopt makes the result of the fork f, which must have finished, the
// result of n. It is how a hedge or an abandoning timeout hands back the
// winning attempt's value.
func (n Next) Adopt(f Next) {
	if n.c != nil && f.c != nil {
		n.c.adopt(f.c)
	}
}

// SetResult sets the value the pipeline returns, for a guard that answers
// instead of the call (a fallback). It fails with an error naming both
// types when n belongs to a pipeline of another result type, or to a
// [Chain] that is not nested in a pipeline.
func SetResult[T any](n Next, v T) error {
	c, ok := slotOf[T](n.c)
	if !ok {
		return fmt.Errorf("resilience: SetResult of %s in %s", typeName[T](), shapeOf(n.c))
	}
	c.v = v
	return nil
}

// Result returns the value of the latest run of n, for a guard that judges
// results (a retry on an HTTP 503 response). ok is false when n belongs to a
// pipeline of another result type, or to a [Chain] that is not nested in a
// pipeline.
func Result[T any](n Next) (v T, ok bool) {
	c, ok := slotOf[T](n.c)
	if !ok {
		return v, false
	}
	return c.v, true
}

// slotOf finds the call holding the result of c: c itself in a pipeline,
// the enclosing pipeline's call for a chain nested in one. A chain nested
// in a pipeline is transparent, so a fallback inside it still answers for
// the pipeline.
func slotOf[T any](c caller) (*call[T], bool) {
	for {
		switch x := c.(type) {
		case *call[T]:
			return x, true
		case *errCall:
			if !x.nested {
				return nil, false
			}
			c = x.outer.c
		default:
			return nil, false
		}
	}
}

func typeName[T any]() string { return reflect.TypeFor[T]().String() }

func shapeOf(c caller) string {
	if c == nil {
		return "no pipeline"
	}
	return c.shape()
}

// Adapt turns a [Policy] into a [Guard] for a pipeline of the same result
// type. The policy's Wrap runs on every call, so an adapted policy costs
// what its Wrap costs (typically a closure or two); the policies in this
// module are Guards already and pay nothing of the kind. Adapt(nil) yields a
// guard whose calls fail with [ErrNilPolicy].
func Adapt[T any](p Policy[T]) Guard {
	if p == nil {
		return nil
	}
	return adapted[T]{p}
}

type adapted[T any] struct{ p Policy[T] }

// Guard runs the policy's Wrap around the rest of the pipeline. Each call
// the policy makes to its next Func runs on a fork of next, because a
// Policy may call its next Func from several goroutines at once (the Func
// contract allows it); the value the policy returns becomes the result.
func (a adapted[T]) Guard(ctx context.Context, next Next) error {
	c, ok := slotOf[T](next.c)
	if !ok {
		return fmt.Errorf("resilience: Policy[%s] adapted into %s", typeName[T](), shapeOf(next.c))
	}
	// The policy may call its next Func on a goroutine that outlives this
	// Guard (an abandoning timeout), forking next then: keep the call.
	next.pin()
	inner := func(ctx context.Context) (T, error) {
		f := next.Fork()
		err := f.Run(ctx)
		v, _ := Result[T](f)
		return v, err
	}
	v, err := a.p.Wrap(inner)(ctx)
	c.v = v
	return err
}
