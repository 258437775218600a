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

// A breaker in a pipeline: each call runs a fresh closure with its own
// arguments. After two failures the breaker refuses calls, without calling
// the function, until its wait is over.
func Example() {
	clk := clock.NewMock()
	bank, err := breaker.New(breaker.Config{
		Name:                "bank",
		ConsecutiveFailures: 2,
		OpenWait:            10 * time.Second,
		Clock:               clk,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	transfers := resilience.NewPipeline[string](bank)

	calls := 0
	for _, amount := range []int{100, 250, 75} {
		_, err := transfers.Execute(context.Background(), func(context.Context) (string, error) {
			calls++
			return "", fmt.Errorf("transfer of %d: bank unreachable", amount)
		})
		fmt.Printf("%v (rejected: %t)\n", err, resilience.IsRejected(err))
	}
	fmt.Println("function called", calls, "times; state", bank.State())
	clk.Add(10 * time.Second)
	fmt.Println("after the wait:", bank.State())
	// Output:
	// transfer of 100: bank unreachable (rejected: false)
	// transfer of 250: bank unreachable (rejected: false)
	// breaker: circuit open (name "bank", retry after 10s) (rejected: true)
	// function called 2 times; state open
	// after the wait: half_open
}

type receipt struct{ ID string }

// balanceReply is an HTTP reply: a 503 comes without a Go error.
type balanceReply struct {
	Status int
	Cents  int64
}

// One breaker shared by pipelines of two result types: failures of either
// count against the same dependency. The balance pipeline's classifier
// also judges an HTTP 503 reply a failure, though it comes without an
// error; the caller still gets the reply.
func Example_sharedByPipelines() {
	bank, _ := breaker.New(breaker.Config{Name: "bank", ConsecutiveFailures: 2})
	transfers := resilience.NewPipeline[receipt](bank)
	balances := resilience.NewPipeline[balanceReply](bank).WithClassifier(
		func(_ context.Context, r balanceReply, err error) resilience.Outcome {
			if err == nil && r.Status == http.StatusServiceUnavailable {
				return resilience.Failure
			}
			return resilience.Unclassified
		})

	ctx := context.Background()
	_, err := transfers.Execute(ctx, func(context.Context) (receipt, error) {
		return receipt{}, errors.New("connection reset")
	})
	fmt.Println("transfer:", err)
	r, err := balances.Execute(ctx, func(context.Context) (balanceReply, error) {
		return balanceReply{Status: http.StatusServiceUnavailable}, nil
	})
	fmt.Println("balance:", r.Status, err)
	_, err = transfers.Execute(ctx, func(context.Context) (receipt, error) { return receipt{"r1"}, nil })
	fmt.Println("transfer refused:", errors.Is(err, breaker.ErrOpen))
	// Output:
	// transfer: connection reset
	// balance: 503 <nil>
	// transfer refused: true
}

// Two-step use, for code that is not one function call: ask, do the work,
// report.
func ExampleBreaker_Allow() {
	ledger, _ := breaker.New(breaker.Config{Name: "ledger"})

	permit, err := ledger.Allow()
	if err != nil {
		fmt.Println("not attempted:", err)
		return
	}
	ctx := context.Background()
	err = writeLedger(ctx)
	permit.DoneErr(ctx, err) // classified: nil is a success
	permit.DoneErr(ctx, err) // a second report is a no-op

	s := ledger.Snapshot()
	fmt.Println(s.State, s.Successes, s.Failures)
	// Output: closed 1 0
}

func writeLedger(context.Context) error { return nil }

// A listener of state changes only hears each transition once, in order,
// and costs a call nothing.
func Example_onStateChange() {
	clk := clock.NewMock()
	fx, _ := breaker.New(breaker.Config{
		Name: "fx", ConsecutiveFailures: 1, OpenWait: time.Second, Clock: clk,
		Listeners: resilience.Listeners{resilience.OnStateChange(func(e resilience.Event) {
			fmt.Printf("%s: %s -> %s (%s)\n", e.Name, e.From, e.To, e.Reason)
		})},
	})
	rates := resilience.NewChain(fx)
	ctx := context.Background()
	_ = rates.Run(ctx, func(context.Context) error { return errors.New("fx: 502") })
	clk.Add(time.Second)
	_ = rates.Run(ctx, func(context.Context) error { return nil })
	// Output:
	// fx: closed -> open (1 consecutive failures)
	// fx: open -> half_open (open wait elapsed)
	// fx: half_open -> closed (1 probes succeeded)
}

// A health check holds a breaker open; a person's command takes over, and
// the health check's release cannot undo it.
func ExampleBreaker_HoldOpen() {
	bank, _ := breaker.New(breaker.Config{Name: "bank"})
	bank.HoldOpen("health: 3 failed probes", 5*time.Second)
	_, err := bank.Allow()
	var re *breaker.RejectedError
	if errors.As(err, &re) {
		fmt.Println(re.State())
	}

	bank.ForceOpen()
	fmt.Println(bank.Release("health: recovered", false), bank.State())
	bank.Reset()
	fmt.Println(bank.State())
	// Output:
	// held_open
	// false forced_open
	// closed
}

// A registry gives every part of a program the same breaker per
// dependency, and a status page their snapshots. Asking for a name with
// different settings is an error, never a silent surprise.
func ExampleRegistry() {
	var reg breaker.Registry
	cfg := breaker.Config{ConsecutiveFailures: 1}

	bank, _ := reg.GetOrCreate("bank", cfg)
	again, _ := reg.GetOrCreate("bank", cfg)
	fmt.Println("same instance:", bank == again)
	_, err := reg.GetOrCreate("bank", breaker.Config{ConsecutiveFailures: 3})
	fmt.Println(errors.Is(err, breaker.ErrConfigMismatch))

	fx, _ := breaker.New(breaker.Config{Name: "fx", ConsecutiveFailures: 1})
	_ = reg.Register(fx) // built elsewhere, listed all the same
	p, _ := fx.Allow()
	p.Done(resilience.Failure)

	for _, s := range reg.Snapshots() {
		fmt.Printf("%s: %s\n", s.Name, s.State)
	}
	// Output:
	// same instance: true
	// true
	// bank: closed
	// fx: open
}

// A breaker judging a failure rate over the last minute, timing its calls
// with the coarse clock: a call's end is stamped with two loads instead of
// a clock read, at a resolution of breaker.CoarseResolution.
func ExampleConfig_coarseClock() {
	fx, err := breaker.New(breaker.Config{
		Name:           "fx",
		FailureRate:    0.5,
		WindowDuration: time.Minute,
		CoarseClock:    true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	quotes := resilience.NewPipeline[float64](fx)
	for range 3 {
		rate, err := quotes.Execute(context.Background(), func(context.Context) (float64, error) { return 1.08, nil })
		fmt.Println(rate, err)
	}
	s := fx.Snapshot()
	fmt.Println(s.State, s.WindowCalls, "calls in the window")
	// Output:
	// 1.08 <nil>
	// 1.08 <nil>
	// 1.08 <nil>
	// closed 3 calls in the window
}
