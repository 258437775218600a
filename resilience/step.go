package resilience

import (
	"context"
	"errors"
)

// Stepper is a [Guard] whose work all happens before and after the rest of
// the pipeline: it admits or refuses a call (Enter) and is told how the
// call ended (Exit), and never runs the rest more than once or on another
// goroutine. Breakers, rate limiters, bulkheads and health gates are
// Steppers.
//
// A [Pipeline] or a [Chain] whose guards are all Steppers runs them as two
// loops around the function instead of through call records and [Next]s:
// the same calls in the same order, for about the cost of the Steppers'
// own work. A Stepper's Guard must therefore behave exactly as
//
//	t, err := s.Enter(ctx)
//	if err != nil {
//		return err
//	}
//	err = next.Run(ctx) // with ctx unchanged
//	s.Exit(ctx, t, err)
//	return err
//
// with one addition: when the rest panics, Exit is called with
// [ErrPanicked] before the panic goes on up the stack unchanged. A Stepper
// whose Exit may panic (a user's classifier) must itself leave the call
// counted as a [Failure] first, as its Guard would.
//
// Enter and Exit must be safe for concurrent use; Exit is called exactly
// once for every Enter that returned a nil error, with the ctx Enter saw.
type Stepper interface {
	Guard
	// Enter admits one call, possibly after waiting, or returns why not
	// (for a context already done, typically its error).
	Enter(ctx context.Context) (Ticket, error)
	// Exit reports how the call admitted with t ended: err is what the
	// rest of the pipeline returned, as Guard's next.Run would have.
	Exit(ctx context.Context, t Ticket, err error)
}

// Ticket is what a [Stepper]'s Enter hands to its Exit for one call. It is
// opaque to everyone but the Stepper that made it, which says what Ref
// and N hold; a pointer in Ref costs no allocation.
type Ticket struct {
	Ref any   // a reference of the Stepper's choosing (a breaker's: its state, or its probe's permit)
	N   int64 // a number of the Stepper's choosing (a breaker's: when the call was admitted)
}

// RunStepper runs next between s.Enter and s.Exit, as the Stepper contract
// asks of s's Guard, panics included: a Stepper's Guard method can be
//
//	func (s *MyStepper) Guard(ctx context.Context, next resilience.Next) error {
//		return resilience.RunStepper(ctx, s, next)
//	}
func RunStepper(ctx context.Context, s Stepper, next Next) error {
	t, err := s.Enter(ctx)
	if err != nil {
		return err
	}
	exited := false
	defer func() {
		// Only a panic in next (or runtime.Goexit) gets here before Exit;
		// not recovering lets it continue with its original stack.
		if !exited {
			s.Exit(ctx, t, ErrPanicked)
		}
	}()
	err = next.Run(ctx)
	exited = true // Exit answers for a panic of its own
	s.Exit(ctx, t, err)
	return err
}

// ErrPanicked is the error a [Stepper]'s Exit receives when the call it
// admitted panicked. It never reaches the caller, who sees the panic.
var ErrPanicked = errors.New("resilience: the guarded function panicked")

// maxSteps is how many Steppers a pipeline runs in loops: their tickets
// live in an array on the caller's stack. Longer pipelines of Steppers
// take the general path, which is as correct and a little slower.
const maxSteps = 8

// steppers returns guards as Steppers when every one of them is one (and
// there are at most maxSteps), and nil otherwise. A pipeline of no guards
// gets an empty, non-nil list: its calls go straight to the function.
func steppers(guards []Guard) []Stepper {
	if len(guards) > maxSteps {
		return nil
	}
	s := make([]Stepper, 0, len(guards))
	for _, g := range guards {
		st, ok := g.(Stepper)
		if !ok {
			return nil
		}
		s = append(s, st)
	}
	return s
}

// stepped runs fn through steps, first outermost, as the Steppers' Guards
// would: each Enter in order until one refuses, the function, then each
// Exit in reverse with the error the guards inside it returned. judge, if
// not nil, turns the function's result into the error the guards see.
func stepped(ctx context.Context, steps []Stepper, fn func(context.Context) error) (err error) {
	var tickets [maxSteps]Ticket
	open := 0 // Steppers entered and not yet exited
	defer func() {
		// Only a panic gets here with Steppers open: each is told, from
		// the innermost out, and the panic goes on unrecovered.
		for open > 0 {
			open--
			steps[open].Exit(ctx, tickets[open], ErrPanicked)
		}
	}()
	for open < len(steps) {
		t, e := steps[open].Enter(ctx)
		if e != nil {
			err = e
			break
		}
		tickets[open] = t
		open++
	}
	if open == len(steps) {
		err = fn(ctx)
	}
	for open > 0 {
		open--
		steps[open].Exit(ctx, tickets[open], err)
	}
	return err
}
