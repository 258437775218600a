package resilience

import (
	"context"
	"fmt"
	"sync"
)

// Pipeline runs calls returning T through a list of guards, the first one
// outermost: in NewPipeline[T](a, b, c), a sees the call first and the
// result last, and c sits next to the function.
//
// A Pipeline is built once and is safe for concurrent use. [Pipeline.Execute]
// runs a fresh function (a closure holding the call's arguments) through
// the prebuilt chain without rebuilding it. The record of a call (its
// result slot and its place in the chain) is reused by a later call once it
// has ended, so a call allocates nothing of its own; this is why a [Guard]
// must not keep its [Next] after it returns. A pipeline whose guards are
// all [Stepper]s (breakers, limiters, bulkheads, health gates) needs no
// record: it runs each guard's Enter, the function, then each Exit. A
// Pipeline is itself a [Guard] and a [Policy], so pipelines nest.
//
// The zero Pipeline passes calls straight through.
type Pipeline[T any] struct {
	p *pipe[T]
}

type pipe[T any] struct {
	guards   []Guard
	steps    []Stepper // guards, when all are Steppers: see stepped
	classify Classifier[T]
	bad      error     // a nil guard, reported by every call
	calls    sync.Pool // of *call[T] that have ended unpinned, for reuse
}

// get returns a call of p, reused when one is free.
func (p *pipe[T]) get() *call[T] {
	if c, ok := p.calls.Get().(*call[T]); ok {
		return c
	}
	return &call[T]{p: p}
}

// put keeps c for another call of p, unless it was pinned: an adapted
// Policy may fork it from a goroutine that outlives the call. A fork
// copies what it needs, and a Guard must not keep its Next once it has
// returned (see [Guard]), so nothing else can reach c.
func (p *pipe[T]) put(c *call[T]) {
	if c.pinned {
		return
	}
	*c = call[T]{p: p}
	p.calls.Put(c)
}

// NewPipeline returns a pipeline of guards for calls returning T, first
// outermost. Guards of every kind mix freely: breakers, limiters and
// timeouts implement [Guard] for any T; a [Policy] of T goes in through
// [Adapt]. A nil guard makes every call fail with [ErrNilPolicy] naming its
// position.
func NewPipeline[T any](guards ...Guard) Pipeline[T] {
	guards = append([]Guard(nil), guards...)
	return Pipeline[T]{&pipe[T]{guards: guards, steps: steppers(guards), bad: checkGuards(guards)}}
}

// WithClassifier returns a copy of p that judges each result with c before
// its guards see it. Where c's verdict differs from what [DefaultOutcome]
// would say of the error alone, the guards see a [*Judged] error carrying
// the verdict, and the caller still sees what the function returned:
//
//   - a result c calls a [Failure] (an HTTP 503 response) reaches the
//     guards as *Judged{Outcome: Failure} (so a breaker counts it and a
//     retry repeats it) and the caller as the value with a nil error, unless
//     a guard ended the call with an error of its own;
//   - an error c calls a [Success] (an answer such as "not found") reaches
//     the guards as *Judged{Outcome: Success, Err: err} and the caller as
//     the original error;
//   - [Ignored] travels the same way, for a result or an error.
//
// [Unclassified] keeps the usual rules. A nil c removes the classifier.
func (p Pipeline[T]) WithClassifier(c Classifier[T]) Pipeline[T] {
	q := &pipe[T]{classify: c}
	if p.p != nil {
		q.guards, q.steps, q.bad = p.p.guards, p.p.steps, p.p.bad
	}
	return Pipeline[T]{q}
}

// Execute runs fn once through the pipeline.
func (p Pipeline[T]) Execute(ctx context.Context, fn Func[T]) (T, error) {
	if fn == nil {
		return nilFunc[T](ctx)
	}
	if p.p == nil {
		return fn(ctx)
	}
	if p.p.bad != nil {
		var zero T
		return zero, p.p.bad
	}
	switch steps := p.p.steps; {
	case steps == nil:
	case len(steps) == 0:
		return result(p.p.invoke(ctx, fn))
	case len(steps) == 1:
		return p.p.step(ctx, steps[0], fn)
	default:
		return p.p.stepped(ctx, fn)
	}
	c := p.p.get()
	c.fn = fn
	err := c.run(ctx, 0) // before c.v is read: operand order is not specified
	v, err := result(c.v, err)
	p.p.put(c)
	return v, err
}

// step runs fn through a pipeline of one Stepper (a breaker, the usual
// case) without a call record: stepped, written out for one.
func (p *pipe[T]) step(ctx context.Context, s Stepper, fn Func[T]) (T, error) {
	t, err := s.Enter(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	exited := false
	defer func() {
		if !exited { // a panic: see Stepper
			s.Exit(ctx, t, ErrPanicked)
		}
	}()
	v, err := p.invoke(ctx, fn)
	exited = true
	s.Exit(ctx, t, err)
	if err == nil {
		return v, nil
	}
	return result(v, err)
}

// stepped runs fn through a pipeline of Steppers without a call record.
func (p *pipe[T]) stepped(ctx context.Context, fn Func[T]) (T, error) {
	var v T
	err := stepped(ctx, p.steps, func(ctx context.Context) error {
		var err error
		v, err = p.invoke(ctx, fn)
		return err
	})
	return result(v, err)
}

// invoke runs fn and returns its result and the error the guards see: the
// classifier's verdict, if it has one to add (see judge).
func (p *pipe[T]) invoke(ctx context.Context, fn Func[T]) (T, error) {
	v, err := fn(ctx)
	if p.classify != nil {
		err = p.judge(ctx, v, err)
	}
	return v, err
}

// judge is the classifier's part of invoke, apart so that invoke is
// inlined.
func (p *pipe[T]) judge(ctx context.Context, v T, err error) error {
	return judge(ctx, p.classify(ctx, v, err), err)
}

// Wrap returns fn decorated by the pipeline, for code that wants a Func to
// call later. It makes p a [Policy].
func (p Pipeline[T]) Wrap(fn Func[T]) Func[T] {
	if fn == nil {
		return nilFunc[T]
	}
	return func(ctx context.Context) (T, error) { return p.Execute(ctx, fn) }
}

// Guard runs the rest of an outer pipeline through p's guards, so a
// pipeline nests inside another of the same result type.
func (p Pipeline[T]) Guard(ctx context.Context, next Next) error {
	if p.p == nil {
		return next.Run(ctx)
	}
	if p.p.bad != nil {
		return p.p.bad
	}
	outer, ok := slotOf[T](next.c)
	if !ok {
		return fmt.Errorf("resilience: Pipeline[%s] nested in %s", typeName[T](), shapeOf(next.c))
	}
	c := p.p.get()
	c.outer, c.nested = next, true
	err := c.run(ctx, 0)
	outer.v = c.v
	p.p.put(c)
	return err
}

// Len reports how many guards p holds.
func (p Pipeline[T]) Len() int {
	if p.p == nil {
		return 0
	}
	return len(p.p.guards)
}

// call is one run of a pipeline; its result slot is what guards read and set.
type call[T any] struct {
	p      *pipe[T]
	fn     Func[T]
	v      T
	outer  Next // the rest of an outer pipeline, when nested
	nested bool
	// pinned: a guard may still fork the call after it ends (an adapted
	// Policy, here or in a chain nested in the call), so it must not be
	// reused. Set on the call's goroutine before the call ends.
	pinned bool
}

func (c *call[T]) run(ctx context.Context, i int) error {
	if i < len(c.p.guards) {
		return c.p.guards[i].Guard(ctx, Next{c: c, i: i + 1})
	}
	if c.nested {
		err := c.outer.Run(ctx)
		c.v, _ = Result[T](c.outer)
		if c.p.classify == nil {
			return err
		}
		return judge(ctx, c.p.classify(ctx, c.v, err), err)
	}
	var err error
	c.v, err = c.p.invoke(ctx, c.fn)
	return err
}

// judge wraps err in a [*Judged] when the classifier's verdict o is one the
// guards would not reach from err alone. Agreeing with the default costs no
// allocation.
func judge(ctx context.Context, o Outcome, err error) error {
	if o == Unclassified || o == DefaultOutcome(ctx, err) {
		return err
	}
	return &Judged{Outcome: o, Err: err}
}

func (c *call[T]) shape() string { return "Pipeline[" + typeName[T]() + "]" }

func (c *call[T]) pin() {
	c.pinned = true
	if c.nested {
		c.outer.pin()
	}
}

// fork copies what c was built with, so a fork never reads c again and c
// may be reused while the fork runs on.
func (c *call[T]) fork() caller {
	f := &call[T]{p: c.p, fn: c.fn, nested: c.nested}
	if c.nested {
		f.outer = c.outer.Fork()
	}
	return f
}

func (c *call[T]) adopt(from caller) {
	if f, ok := from.(*call[T]); ok {
		c.v = f.v
		if c.nested {
			c.outer.Adopt(f.outer)
		}
	}
}

// result turns v, the call's latest result, and the chain's error into
// what the caller sees: a verdict that reached the top unchanged is taken
// off again. A guard that wrapped the verdict in an error of its own (a
// retry giving up) ended the call with that error.
func result[T any](v T, err error) (T, error) {
	for {
		j, ok := err.(*Judged)
		if !ok {
			break
		}
		err = j.Err // a nested pipeline's verdict may sit inside
	}
	if err == nil {
		return v, nil
	}
	// A guard that gave up on a result judged a failure (a retry out of
	// attempts on an HTTP 503) wraps that verdict in its own error: the
	// caller still gets the last result, as if no policy had judged it, so
	// it can read the response and close its body.
	if j := findJudged(err); j != nil && j.Err == nil && j.Outcome == Failure {
		return v, nil
	}
	var zero T
	return zero, err
}

// Execute runs fn once through guards, first outermost: the one-shot form of
// [NewPipeline] followed by [Pipeline.Execute].
func Execute[T any](ctx context.Context, fn Func[T], guards ...Guard) (T, error) {
	return NewPipeline[T](guards...).Execute(ctx, fn)
}
