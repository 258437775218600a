package bulkhead_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/bulkhead"
)

// A bulkhead is a guard: it goes into pipelines of any result type, and
// one instance bounds every call to the dependency it protects.
func ExampleBulkhead() {
	ledger, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, Name: "ledger"})
	if err != nil {
		panic(err) // only a bad Config fails
	}
	balances := resilience.NewPipeline[int](ledger)
	writes := resilience.NewChain(ledger)

	// A call in flight holds the only slot, so the write is refused.
	_, _ = balances.Execute(context.Background(), func(ctx context.Context) (int, error) {
		err := writes.Run(ctx, func(context.Context) error { return nil })
		fmt.Println(err, "| rejected:", resilience.IsRejected(err), "| full:", errors.Is(err, bulkhead.ErrFull))
		return 42, nil
	})
	s := ledger.Snapshot()
	fmt.Printf("in flight %d, rejected %d\n", s.InFlight, s.Rejected)
	// Output:
	// bulkhead: full (name "ledger") | rejected: true | full: true
	// in flight 0, rejected 1
}

// The two-step form, outside a pipeline. A permit frees its slot once.
func ExampleBulkhead_TryAcquire() {
	workers, _ := bulkhead.New(bulkhead.Config{MaxConcurrent: 2})
	a, _ := workers.TryAcquire()
	b, _ := workers.TryAcquire()
	_, ok := workers.TryAcquire()
	fmt.Println("third admitted:", ok)
	a.Release()
	a.Release() // a second release does nothing
	fmt.Println("in flight:", workers.Snapshot().InFlight)
	b.Release()
	// Output:
	// third admitted: false
	// in flight: 1
}

// An adaptive limit halves on each failure here (BackoffPercent 50).
func ExampleAdaptive() {
	limit, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Initial: 8, BackoffPercent: 50, Name: "bank"})
	if err != nil {
		panic(err)
	}
	transfers := resilience.NewPipeline[string](limit)
	for i := range 3 {
		_, _ = transfers.Execute(context.Background(), func(context.Context) (string, error) {
			return "", errors.New("bank: 502")
		})
		fmt.Println("limit after failure", i+1, "=", limit.Snapshot().Limit)
	}
	// Output:
	// limit after failure 1 = 4
	// limit after failure 2 = 2
	// limit after failure 3 = 1
}
