package backoff_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
)

// skipClock is a mock clock whose timers fire as soon as they are made,
// moving its time forward by their duration: waits take no real time, and
// the clock tells how long the retry would have waited.
type skipClock struct{ *clock.Mock }

func (c skipClock) Timer(d time.Duration) *clock.Timer {
	t := c.Mock.Timer(d)
	c.Mock.Add(d)
	return t
}

var errUnavailable = errors.New("bank: 503 service unavailable")

// A retry with exponential backoff and full jitter, in a pipeline whose
// result type is written once. The seeded source and the skipping clock
// make the output reproducible; in production leave both nil.
func ExampleNewRetry() {
	strategy, err := backoff.NewExponential(backoff.ExponentialConfig{
		Initial: 100 * time.Millisecond,
		Max:     2 * time.Second,
		Jitter:  backoff.FullJitter,
		Source:  rand.NewPCG(1, 2),
	})
	if err != nil {
		panic(err)
	}
	clk := skipClock{clock.NewMock()}
	retry, err := backoff.NewRetry(backoff.RetryConfig{
		Name:        "bank",
		MaxAttempts: 4,
		Strategy:    strategy,
		Clock:       clk,
		Listeners: resilience.Listeners{resilience.OnKinds(func(e resilience.Event) {
			fmt.Printf("attempt %d after %v (%v)\n", e.Attempt, e.Delay.Round(time.Millisecond), e.Err)
		}, resilience.EventRetry)},
	})
	if err != nil {
		panic(err)
	}
	transfers := resilience.NewPipeline[string](retry)

	calls := 0
	receipt, err := transfers.Execute(context.Background(), func(context.Context) (string, error) {
		calls++
		if calls < 3 {
			return "", errUnavailable
		}
		return "receipt-42", nil
	})
	fmt.Println(receipt, err, "waited", clk.Now().Sub(time.Unix(0, 0)).Round(time.Millisecond))
	// Output:
	// attempt 2 after 77ms (bank: 503 service unavailable)
	// attempt 3 after 123ms (bank: 503 service unavailable)
	// receipt-42 <nil> waited 200ms
}

// A response that is a failure without an error, such as an HTTP 503, is
// retried when the pipeline's classifier judges it a failure.
func ExampleNewRetry_classifier() {
	type response struct{ Status int }
	retry, _ := backoff.NewRetry(backoff.RetryConfig{Strategy: backoff.Constant(0)})
	rates := resilience.NewPipeline[response](retry).WithClassifier(
		func(_ context.Context, r response, err error) resilience.Outcome {
			if err == nil && r.Status >= 500 {
				return resilience.Failure
			}
			return resilience.Unclassified
		})

	statuses := []int{503, 200}
	calls := 0
	r, err := rates.Execute(context.Background(), func(context.Context) (response, error) {
		calls++
		return response{statuses[calls-1]}, nil
	})
	fmt.Println(r.Status, err, "after", calls, "calls")
	// Output: 200 <nil> after 2 calls
}

// A call stops the retries at once by marking its error permanent;
// errors.Is still sees the error inside.
func ExamplePermanent() {
	errDeclined := errors.New("bank: card declined")
	retry, _ := backoff.NewRetry(backoff.RetryConfig{MaxAttempts: 5})

	calls := 0
	err := resilience.Run(context.Background(), func(context.Context) error {
		calls++
		return backoff.Permanent(errDeclined)
	}, retry)

	var re *backoff.RetryError
	fmt.Println(calls, errors.Is(err, errDeclined), errors.As(err, &re), re.Attempts)
	fmt.Println(err)
	// Output:
	// 1 true true 1
	// backoff: 1 attempt: bank: card declined
}

// One budget shared by retries in pipelines of different result types,
// called from many goroutines: once its floor of 5 retries in the window
// is spent (and its ratio, tiny here, adds none), failing calls return at
// once.
func ExampleBudget() {
	budget, _ := backoff.NewBudget(backoff.BudgetConfig{
		Ratio:        1e-9,
		MinPerSecond: 0.5, // × the 10s window: 5 retries
		Clock:        clock.NewMock(),
	})
	retry, _ := backoff.NewRetry(backoff.RetryConfig{MaxAttempts: 2, Strategy: backoff.Constant(0), Budget: budget})
	balances := resilience.NewPipeline[int](retry)
	receipts := resilience.NewPipeline[string](retry)

	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := 0
	for i := range 20 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = balances.Execute(context.Background(), func(context.Context) (int, error) { return 0, errUnavailable })
			} else {
				_, err = receipts.Execute(context.Background(), func(context.Context) (string, error) { return "", errUnavailable })
			}
			if errors.Is(err, backoff.ErrBudgetExhausted) {
				mu.Lock()
				refused++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	s := budget.Snapshot()
	fmt.Printf("requests %d, retries %d, refusals %d, refused calls %d\n", s.Requests, s.Retries, s.Refusals, refused)
	// Output:
	// requests 20, retries 5, refusals 15, refused calls 15
}

// A budget's snapshot marshals to JSON for a status page.
func ExampleBudget_Snapshot() {
	budget, _ := backoff.NewBudget(backoff.BudgetConfig{Clock: clock.NewMock()})
	for range 50 {
		budget.Request()
	}
	budget.AllowRetry()
	b, _ := json.Marshal(budget.Snapshot())
	fmt.Println(string(b))
	// Output:
	// {"requests":50,"retries":1,"refusals":0,"available":109,"window":"10s","window_seconds":10}
}

// The capped exponential schedule without jitter.
func ExampleNewExponential() {
	s, _ := backoff.NewExponential(backoff.ExponentialConfig{
		Initial:    time.Second,
		Multiplier: 1.5,
		Max:        5 * time.Second,
	})
	var delays []time.Duration
	for n := 1; n <= 6; n++ {
		delays = append(delays, s.Delay(n, 0))
	}
	fmt.Println(delays)

	_, err := backoff.NewExponential(backoff.ExponentialConfig{Multiplier: 0.5})
	var ce *resilience.ConfigError
	fmt.Println(errors.As(err, &ce), ce.Field, ce.Rule)
	// Output:
	// [1s 1.5s 2.25s 3.375s 5s 5s]
	// true Multiplier must be finite and at least 1
}

// Decorrelated jitter feeds each delay back as prev; every delay stays in
// [Initial, Max].
func ExampleNewExponential_decorrelated() {
	s, _ := backoff.NewExponential(backoff.ExponentialConfig{
		Initial: time.Second,
		Max:     20 * time.Second,
		Jitter:  backoff.DecorrelatedJitter,
		Source:  rand.NewPCG(7, 7),
	})
	var prev time.Duration
	for n := 1; n <= 5; n++ {
		prev = s.Delay(n, prev)
		fmt.Println(prev.Round(time.Millisecond))
	}
	// Output:
	// 2.92s
	// 1.151s
	// 2.862s
	// 2.133s
	// 2.273s
}

// Proportional jitter spreads each delay ±Spread around the schedule, as
// gRPC does with 0.2; a Multiplier of 1 makes the schedule constant.
func ExampleNewExponential_proportional() {
	s, _ := backoff.NewExponential(backoff.ExponentialConfig{
		Initial:    time.Second,
		Multiplier: 1,
		Jitter:     backoff.ProportionalJitter,
		Spread:     0.2,
		Source:     rand.NewPCG(3, 4),
	})
	for n := 1; n <= 3; n++ {
		fmt.Println(s.Delay(n, 0).Round(time.Millisecond))
	}
	// Output:
	// 1.153s
	// 1.166s
	// 986ms
}

// A constant delay needs no error check.
func ExampleConstant() {
	s := backoff.Constant(250 * time.Millisecond)
	fmt.Println(s.Delay(1, 0), s.Delay(1000, 0))
	// Output:
	// 250ms 250ms
}

// The final error tells how many attempts ran and why retrying stopped.
func ExampleRetryError() {
	retry, _ := backoff.NewRetry(backoff.RetryConfig{MaxAttempts: 3, Strategy: backoff.Constant(0)})
	err := resilience.Run(context.Background(), func(context.Context) error { return errUnavailable }, retry)

	var re *backoff.RetryError
	if errors.As(err, &re) {
		fmt.Println(re.Attempts, errors.Is(err, errUnavailable), errors.Is(err, backoff.ErrMaxAttempts))
	}
	fmt.Println(err)
	// Output:
	// 3 true true
	// backoff: 3 attempts, attempts exhausted: bank: 503 service unavailable
}

// Bound tells how long a schedule can wait at most, so that a deadline can
// be checked against a whole sequence of attempts.
func ExampleBound() {
	s, _ := backoff.NewExponential(backoff.ExponentialConfig{Initial: 50 * time.Millisecond,
		Max: time.Second, Jitter: backoff.FullJitter})
	d, ok := backoff.Bound(s)
	fmt.Println(d, ok)
	// Output:
	// 1s true
}

// Admit lets a retry look at the breaker inside it before it waits: once
// the breaker is open, the retry stops as soon as the attempt that failed
// ends, instead of sleeping its backoff only to be refused.
func ExampleRetryConfig_admit() {
	clk := skipClock{clock.NewMock()}
	open := false // stands for a breaker's state
	admit := func(context.Context) error {
		if open {
			return resilience.Reject("breaker", "bank", errors.New("breaker: circuit open"), time.Minute)
		}
		return nil
	}
	retry, _ := backoff.NewRetry(backoff.RetryConfig{MaxAttempts: 3, Strategy: backoff.Constant(time.Second),
		Admit: admit, Clock: clk})
	pipeline := resilience.NewPipeline[string](retry)
	_, err := pipeline.Execute(context.Background(), func(context.Context) (string, error) {
		open = true // this attempt's failure opened the breaker
		return "", errUnavailable
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, backoff.ErrRefusedAhead), resilience.IsRejected(err), "waited", clk.Now().Sub(time.Unix(0, 0)))
	// Output:
	// backoff: 1 attempt, the next attempt would be refused (breaker: circuit open (name "bank", retry after 1m0s)): bank: 503 service unavailable
	// true false waited 0s
}
