package resiliencetest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

func ExampleRecorder() {
	rec := resiliencetest.NewRecorder()
	// A policy configured with rec.Listener() delivers its events here.
	d := resilience.NewDispatcher(resilience.Listeners{rec.Listener()})
	d.Enqueue(resilience.Event{Kind: resilience.EventStateChange, From: "closed", To: "open"})
	d.Flush()
	d.Emit(resilience.Event{Kind: resilience.EventRejection})
	fmt.Println(rec.StateChanges())
	fmt.Println(rec.Kinds())
	fmt.Println(rec.Count(resilience.EventRejection))
	// Output:
	// [closed->open]
	// [state_change rejection]
	// 1
}

// A retrying guard meets an operation that fails twice, then succeeds.
func ExampleFailN() {
	flaky := resiliencetest.FailN(2, errors.New("bank: 503"))
	retry := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		var err error
		for range 3 {
			if err = next.Run(ctx); err == nil {
				return nil
			}
		}
		return err
	})
	v, err := resilience.Execute(context.Background(), resiliencetest.Func(flaky, "receipt"), retry)
	fmt.Println(v, err, flaky.Calls())
	// Output: receipt <nil> 3
}

func ExampleScript() {
	op := resiliencetest.Script(errors.New("timeout"), nil, errors.New("refused"))
	for range 4 {
		fmt.Println(op.Run(context.Background()))
	}
	// Output:
	// timeout
	// <nil>
	// refused
	// refused
}

// A Blocking operation hangs until released or until its caller gives up,
// so timeouts and bulkheads can be tested without real time passing (inside
// a testing/synctest bubble, synctest.Wait returns once it is parked).
func ExampleBlocking() {
	hang := resiliencetest.NewBlocking()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- hang.Run(ctx) }()
	cancel() // the caller gives up
	fmt.Println(<-done)

	hang.Release()
	fmt.Println(hang.Run(context.Background()), hang.Calls())
	// Output:
	// context canceled
	// <nil> 2
}
