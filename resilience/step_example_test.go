package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/riprap-go/riprap/resilience"
)

// inFlight is a Stepper: it counts the calls running through it, and
// refuses one over its limit. Its work is all before and after the call.
type inFlight struct {
	n, max atomic.Int64
}

var errTooMany = errors.New("too many calls in flight")

func (f *inFlight) Enter(ctx context.Context) (resilience.Ticket, error) {
	if err := ctx.Err(); err != nil {
		return resilience.Ticket{}, err
	}
	if f.n.Add(1) > f.max.Load() {
		f.n.Add(-1)
		return resilience.Ticket{}, errTooMany
	}
	return resilience.Ticket{}, nil
}

func (f *inFlight) Exit(context.Context, resilience.Ticket, error) { f.n.Add(-1) }

// Guard is Enter, the rest of the pipeline, then Exit, as Stepper asks.
func (f *inFlight) Guard(ctx context.Context, next resilience.Next) error {
	return resilience.RunStepper(ctx, f, next)
}

// A guard whose work is all before and after the call implements Stepper
// too, and a pipeline made only of Steppers (breakers, limiters,
// bulkheads, this one) runs them as Enter, the function, Exit, without a
// record per call.
func ExampleStepper() {
	limit := &inFlight{}
	limit.max.Store(1)
	p := resilience.NewPipeline[string](limit)

	v, err := p.Execute(context.Background(), func(ctx context.Context) (string, error) {
		// A second call while this one runs finds the limit reached.
		_, inner := p.Execute(ctx, func(context.Context) (string, error) { return "inner", nil })
		fmt.Println("inner call:", inner)
		return "outer", nil
	})
	fmt.Println(v, err, "in flight after:", limit.n.Load())
	// Output:
	// inner call: too many calls in flight
	// outer <nil> in flight after: 0
}
