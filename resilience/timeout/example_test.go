package timeout_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience/timeout"
)

func ExampleNew() {
	bounded, err := timeout.New[string](2 * time.Second)
	if err != nil {
		panic(err)
	}
	quote := bounded.Wrap(func(ctx context.Context) (string, error) {
		_, hasDeadline := ctx.Deadline()
		return fmt.Sprint("EUR/USD 1.0842, deadline set: ", hasDeadline), nil
	})
	fmt.Println(quote(context.Background()))

	_, err = timeout.New[string](0)
	fmt.Println(err)
	// Output:
	// EUR/USD 1.0842, deadline set: true <nil>
	// timeout: Timeout must be positive, got 0s
}

// With a mock clock the deadline fires when the test moves time, not when the
// wall clock does.
func ExampleNewWithConfig() {
	mock := clock.NewMock()
	bounded, _ := timeout.NewWithConfig[string](timeout.Config{Timeout: 2 * time.Second, Clock: mock, Name: "fx"})
	moved := make(chan struct{})
	quote := bounded.Wrap(func(ctx context.Context) (string, error) {
		go func() { mock.Add(5 * time.Second); close(moved) }() // the FX service hangs
		<-ctx.Done()
		return "", ctx.Err()
	})
	_, err := quote(context.Background())
	<-moved
	fmt.Println(err)
	fmt.Println(errors.Is(err, timeout.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	// Output:
	// timeout: "fx" deadline of 2s exceeded
	// true true
}

// When the caller's deadline comes first, the policy steps aside and the
// caller's own error comes back unchanged.
func ExampleError() {
	bounded, _ := timeout.New[int](time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := bounded.Wrap(func(ctx context.Context) (int, error) { return 0, ctx.Err() })(ctx)
	var te *timeout.Error
	fmt.Println(err, errors.As(err, &te))
	// Output: context canceled false
}

// Abandon mode answers on time even when the function ignores its context.
func ExampleMode() {
	mock := clock.NewMock()
	bounded, _ := timeout.NewWithConfig[string](timeout.Config{Timeout: time.Second, Clock: mock, Mode: timeout.Abandon})
	release := make(chan struct{})
	finished, moved := make(chan struct{}), make(chan struct{})
	stuck := bounded.Wrap(func(context.Context) (string, error) {
		defer close(finished)
		go func() { mock.Add(time.Second); close(moved) }()
		<-release // ignores ctx entirely
		return "too late", nil
	})
	v, err := stuck(context.Background())
	fmt.Printf("%q %v\n", v, err)
	close(release) // the abandoned function ends by itself
	<-finished
	<-moved
	// Output: "" timeout: deadline of 1s exceeded
}
