package throttle_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/throttle"
)

// A throttle in a pipeline: while the dependency fails every call, the
// client refuses a growing share of its own calls before sending them.
func Example() {
	thr, err := throttle.New(throttle.Config{Name: "bank", Seed: 7})
	if err != nil {
		panic(err)
	}
	pipeline := resilience.NewPipeline[string](thr)
	down := func(context.Context) (string, error) { return "", errors.New("bank unavailable") }

	sent, refused := 0, 0
	for range 100 {
		_, err := pipeline.Execute(context.Background(), down)
		switch {
		case errors.Is(err, throttle.ErrThrottled):
			refused++
		case err != nil:
			sent++
		}
	}
	fmt.Println("sent:", sent, "refused:", refused)
	fmt.Printf("rejection probability now: %.2f\n", thr.Snapshot().RejectionProbability)
	// Output:
	// sent: 8 refused: 92
	// rejection probability now: 0.99
}

// The two-step form, for code that makes its calls itself.
func ExampleThrottle_Allow() {
	thr, err := throttle.New(throttle.Config{Name: "fx"})
	if err != nil {
		panic(err)
	}
	permit, err := thr.Allow()
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	permit.DoneErr(context.Background(), nil) // the call succeeded
	s := thr.Snapshot()
	fmt.Println("requests:", s.Requests, "accepts:", s.Accepts)
	// Output:
	// requests: 1 accepts: 1
}
