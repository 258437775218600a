package chaos_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/chaos"
)

// Rehearse a bank outage: the injector ships switched off in the real
// pipeline and is switched on for the drill.
func Example() {
	outage, err := chaos.Fault(errors.New("bank unavailable"), chaos.Config{Name: "bank outage"})
	if err != nil {
		panic(err)
	}
	pipeline := resilience.NewPipeline[string](outage)
	charge := func(context.Context) (string, error) { return "receipt-1", nil }

	fmt.Println(pipeline.Execute(context.Background(), charge))
	outage.Enable()
	_, err = pipeline.Execute(context.Background(), charge)
	fmt.Println(err, errors.Is(err, chaos.ErrInjected))
	outage.Disable()
	fmt.Println(pipeline.Execute(context.Background(), charge))
	// Output:
	// receipt-1 <nil>
	// chaos: injected fault "bank outage": bank unavailable true
	// receipt-1 <nil>
}

// A substitute result at a rate, reproducible with a seed.
func ExampleResult() {
	stale, err := chaos.Result(0.0, chaos.Config{Name: "stale quote", Rate: 0.25, Seed: 1, On: true})
	if err != nil {
		panic(err)
	}
	quote := resilience.NewPipeline[float64](stale)
	zeros := 0
	for range 1000 {
		v, _ := quote.Execute(context.Background(), func(context.Context) (float64, error) { return 1.0842, nil })
		if v == 0 {
			zeros++
		}
	}
	s := stale.Snapshot()
	fmt.Println(zeros == int(s.Injected), s.Injected+s.Passed)
	// Output:
	// true 1000
}
