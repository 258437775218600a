package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// A breaker guarding a function through the Policy adapter: after two
// failures it refuses calls, without calling the function, until its wait
// is over.
func Example() {
	clk := clock.NewMock()
	b := resilience.Must(breaker.New(breaker.Config{
		Name:                "bank",
		ConsecutiveFailures: 2,
		OpenWait:            10 * time.Second,
		Clock:               clk,
	}))
	calls := 0
	transfer := breaker.Policy[string](b).Wrap(func(context.Context) (string, error) {
		calls++
		return "", errors.New("bank unreachable")
	})

	for range 3 {
		_, err := transfer(context.Background())
		fmt.Printf("%v (rejected: %t)\n", err, resilience.IsRejected(err))
	}
	fmt.Println("function called", calls, "times; state", b.State())
	clk.Add(10 * time.Second)
	fmt.Println("after the wait:", b.State())
	// Output:
	// bank unreachable (rejected: false)
	// bank unreachable (rejected: false)
	// breaker: circuit open (name "bank", retry after 10s) (rejected: true)
	// function called 2 times; state open
	// after the wait: half_open
}

// Two-step use, for code that is not one function call: ask, do the work,
// report.
func ExampleBreaker_Allow() {
	b := resilience.Must(breaker.New(breaker.Config{Name: "ledger"}))

	permit, err := b.Allow()
	if err != nil {
		fmt.Println("not attempted:", err)
		return
	}
	ctx := context.Background()
	err = writeLedger(ctx)
	permit.DoneErr(ctx, err) // classified: nil is a success
	permit.DoneErr(ctx, err) // a second report is a no-op

	s := b.Snapshot()
	fmt.Println(s.State, s.Successes, s.Failures)
	// Output: closed 1 0
}

func writeLedger(context.Context) error { return nil }

// A registry gives every part of a program the same breaker per
// dependency, and a status page their snapshots.
func ExampleRegistry() {
	var reg breaker.Registry
	cfg := breaker.Config{ConsecutiveFailures: 1}

	bank, _ := reg.GetOrCreate("bank", cfg)
	again, _ := reg.GetOrCreate("bank", cfg)
	fx, _ := reg.GetOrCreate("fx", cfg)
	fmt.Println("same instance:", bank == again)

	p, _ := fx.Allow()
	p.Done(resilience.Failure)

	for _, s := range reg.Snapshots() {
		fmt.Printf("%s: %s\n", s.Name, s.State)
	}
	// Output:
	// same instance: true
	// bank: closed
	// fx: open
}

type receipt struct{ ID string }

// balanceReply is an HTTP reply: a 503 comes without a Go error.
type balanceReply struct {
	Status int
	Cents  int64
}

// One breaker shared by calls of two result types: failures of either
// count against the same dependency. The balance policy also treats an
// HTTP 503 status as a failure, though it comes without an error.
func ExamplePolicy() {
	bank := resilience.Must(breaker.New(breaker.Config{Name: "bank", ConsecutiveFailures: 2}))

	transfer := breaker.Policy[receipt](bank).Wrap(func(context.Context) (receipt, error) {
		return receipt{}, errors.New("connection reset")
	})
	unavailable := func(_ context.Context, r balanceReply, err error) resilience.Outcome {
		if err == nil && r.Status == http.StatusServiceUnavailable {
			return resilience.Failure
		}
		return resilience.Unclassified
	}
	balance := breaker.Policy(bank, unavailable).Wrap(func(context.Context) (balanceReply, error) {
		return balanceReply{Status: http.StatusServiceUnavailable}, nil
	})

	ctx := context.Background()
	_, err := transfer(ctx)
	fmt.Println("transfer:", err)
	r, err := balance(ctx)
	fmt.Println("balance:", r.Status, r.Cents, err)
	_, err = transfer(ctx)
	fmt.Println("transfer refused:", errors.Is(err, breaker.ErrOpen))
	// Output:
	// transfer: connection reset
	// balance: 503 0 <nil>
	// transfer refused: true
}
