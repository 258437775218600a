//go:build !race

package resilience_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/riprap-go/riprap/resilience"
)

// A call through a prebuilt pipeline or chain allocates nothing of its
// own: its record is reused from the previous call that no guard forked.
// (Under the race detector sync.Pool drops items at random, hence the
// build tag.)
func TestExecuteAllocatesNothing(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters change allocation counts")
	}
	ctx := context.Background()
	p := resilience.NewPipeline[int](pass, pass, pass, pass)
	fn := func(context.Context) (int, error) { return 1, nil }
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = p.Execute(ctx, fn) }), "Pipeline.Execute")
	nested := resilience.NewPipeline[int](pass, p, resilience.NewChain(pass, pass))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = nested.Execute(ctx, fn) }), "nested pipelines")
	c := resilience.NewChain(pass, pass, pass, pass)
	efn := func(context.Context) error { return nil }
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = c.Run(ctx, efn) }), "Chain.Run")
}

// The test above is able to fail: a fork is an allocation of its own.
func TestExecuteWithAForkAllocates(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters change allocation counts")
	}
	forking := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		f := next.Fork()
		err := f.Run(ctx)
		next.Adopt(f)
		return err
	})
	p := resilience.NewPipeline[int](forking)
	fn := func(context.Context) (int, error) { return 1, nil }
	assert.GreaterOrEqual(t, testing.AllocsPerRun(100, func() { _, _ = p.Execute(context.Background(), fn) }), 1.0)
}
