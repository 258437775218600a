package resilience

import (
	"context"
	"fmt"
	"sync"
)

// Chain runs error-only calls, func(ctx) error, through a list of guards,
// the first one outermost. It is [Pipeline] for operations that return no
// value: a write, a delete, a health probe.
//
// A Chain is built once and is safe for concurrent use; the zero Chain runs
// calls straight through. A nil guard makes every call fail with
// [ErrNilPolicy].
type Chain struct {
	guards []Guard
	steps  []Stepper // guards, when all are Steppers: see stepped
	bad    error
}

// NewChain returns a chain of guards, first outermost.
func NewChain(guards ...Guard) Chain {
	guards = append([]Guard(nil), guards...)
	return Chain{guards: guards, steps: steppers(guards), bad: checkGuards(guards)}
}

// checkGuards reports the first nil guard, by its position counted from 1.
func checkGuards(guards []Guard) error {
	for i, g := range guards {
		if g == nil {
			return fmt.Errorf("%w: guard %d of %d", ErrNilPolicy, i+1, len(guards))
		}
	}
	return nil
}

// Run runs fn once through the chain and returns its error, or the error of
// the guard that refused or ended it.
func (c Chain) Run(ctx context.Context, fn func(context.Context) error) error {
	switch {
	case fn == nil:
		return ErrNilFunc
	case c.bad != nil:
		return c.bad
	case len(c.guards) == 0:
		return fn(ctx)
	case c.steps != nil:
		return stepped(ctx, c.steps, fn)
	}
	ec := getErrCall()
	ec.guards, ec.fn = c.guards, fn
	err := ec.run(ctx, 0)
	ec.put()
	return err
}

// Guard runs the rest of an outer pipeline through c's guards, so a chain
// nests inside a pipeline of any result type.
func (c Chain) Guard(ctx context.Context, next Next) error {
	if c.bad != nil {
		return c.bad
	}
	if len(c.guards) == 0 {
		return next.Run(ctx)
	}
	ec := getErrCall()
	ec.guards, ec.outer, ec.nested = c.guards, next, true
	err := ec.run(ctx, 0)
	ec.put()
	return err
}

// Len reports how many guards c holds.
func (c Chain) Len() int { return len(c.guards) }

// Run runs fn once through guards, first outermost: the one-shot form of
// [NewChain] followed by [Chain.Run].
func Run(ctx context.Context, fn func(context.Context) error, guards ...Guard) error {
	return NewChain(guards...).Run(ctx, fn)
}

// errCall is one run of a chain. A top-level chain has no result to carry;
// a nested one carries the outer pipeline's, through outer.
type errCall struct {
	guards []Guard
	fn     func(context.Context) error
	outer  Next
	nested bool
	pinned bool // as in call; also set by a fork of a top-level chain, which is the call itself
}

// errCalls holds calls of every Chain that ended unpinned, for reuse.
var errCalls sync.Pool

func getErrCall() *errCall {
	if c, ok := errCalls.Get().(*errCall); ok {
		return c
	}
	return new(errCall)
}

// put keeps c for another call unless it was pinned; see pipe.put.
func (c *errCall) put() {
	if c.pinned {
		return
	}
	*c = errCall{}
	errCalls.Put(c)
}

func (c *errCall) pin() {
	c.pinned = true
	if c.nested {
		c.outer.pin()
	}
}

func (c *errCall) run(ctx context.Context, i int) error {
	switch {
	case i < len(c.guards):
		return c.guards[i].Guard(ctx, Next{c: c, i: i + 1})
	case c.nested:
		return c.outer.Run(ctx)
	}
	return c.fn(ctx)
}

func (c *errCall) fork() caller {
	if !c.nested {
		// A top-level chain has no result slot: the call is its own fork,
		// and must not be reused while the fork may run.
		c.pin()
		return c
	}
	return &errCall{guards: c.guards, outer: c.outer.Fork(), nested: true}
}

func (c *errCall) shape() string {
	if c.nested {
		return shapeOf(c.outer.c)
	}
	return "a Chain"
}

func (c *errCall) adopt(from caller) {
	if f, ok := from.(*errCall); ok && c.nested && f.nested {
		c.outer.Adopt(f.outer)
	}
}
