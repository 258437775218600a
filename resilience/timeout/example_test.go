package timeout_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// After needs no configuration and no error check; the result type is
// written once, on the pipeline.
func ExampleAfter() {
	quotes := resilience.NewPipeline[string](timeout.After(2 * time.Second))
	q, err := quotes.Execute(context.Background(), func(ctx context.Context) (string, error) {
		_, hasDeadline := ctx.Deadline()
		return fmt.Sprint("EUR/USD 1.0842, deadline set: ", hasDeadline), nil
	})
	fmt.Println(q, err)

	// A duration that is not positive is a programmer error: the calls
	// report it instead of running.
	_, err = resilience.Execute(context.Background(), func(context.Context) (string, error) { return "never", nil },
		timeout.After(0))
	var ce *resilience.ConfigError
	fmt.Println(errors.As(err, &ce), ce.Field, ce.Rule)
	// Output:
	// EUR/USD 1.0842, deadline set: true <nil>
	// true Timeout must be positive
}

// With a mock clock the deadline fires when the test moves time, not when
// the wall clock does, and contexts derived inside the call see a deadline
// with the timeout as its cause.
func ExampleNew() {
	mock := clock.NewMock()
	fx, err := timeout.New(timeout.Config{Timeout: 2 * time.Second, Clock: mock, Name: "fx"})
	if err != nil {
		panic(err)
	}
	moved := make(chan struct{})
	_, err = resilience.Execute(context.Background(), func(ctx context.Context) (string, error) {
		req, cancel := context.WithCancel(ctx) // as an HTTP client would
		defer cancel()
		go func() { mock.Add(5 * time.Second); close(moved) }() // the FX service hangs
		<-req.Done()
		fmt.Println(req.Err(), "|", context.Cause(req))
		return "", req.Err()
	}, fx)
	<-moved
	fmt.Println(err)
	fmt.Println(errors.Is(err, timeout.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	// Output:
	// context deadline exceeded | timeout: "fx" deadline of 2s exceeded
	// timeout: "fx" deadline of 2s exceeded
	// true true
}

// When the caller gives up first, the timeout steps aside and the caller's
// own error comes back unchanged.
func ExampleError() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := resilience.Run(ctx, func(ctx context.Context) error { return ctx.Err() }, timeout.After(time.Hour))
	var te *timeout.Error
	fmt.Println(err, errors.As(err, &te))
	// Output: context canceled false
}

// Abandon mode answers on time even when the function ignores its context.
func ExampleMode() {
	mock := clock.NewMock()
	stuck, _ := timeout.New(timeout.Config{Timeout: time.Second, Clock: mock, Mode: timeout.Abandon})
	release := make(chan struct{})
	finished, moved := make(chan struct{}), make(chan struct{})
	v, err := resilience.Execute(context.Background(), func(context.Context) (string, error) {
		defer close(finished)
		go func() { mock.Add(time.Second); close(moved) }()
		<-release // ignores ctx entirely
		return "too late", nil
	}, stuck)
	fmt.Printf("%q %v, still running: %d\n", v, err, stuck.Snapshot().Abandoned)
	close(release) // the abandoned function ends by itself
	<-finished
	<-moved
	// Output: "" timeout: deadline of 1s exceeded, still running: 1
}

func ExampleTimeout_Snapshot() {
	fx, _ := timeout.New(timeout.Config{Timeout: 1500 * time.Millisecond, Name: "fx"})
	b, _ := json.Marshal(fx.Snapshot())
	fmt.Println(string(b))
	// Output:
	// {"name":"fx","mode":"cooperative","timeout":"1.5s","timeout_seconds":1.5,"timeouts":0,"abandoned":0,"panics":0}
}
