package resilience_test

import (
	"context"
	"testing"

	"github.com/riprap-go/riprap/resilience"
)

// benchGuards is a pipeline's worth of trivial guards: each runs the rest
// once, so the benchmarks measure the pipeline's own cost.
var benchGuards = []resilience.Guard{pass, pass, pass, pass}

// A fresh closure per call, holding the call's argument: the way a handler
// uses a shared pipeline.
func BenchmarkPipelineExecuteFreshClosure(b *testing.B) {
	p := resilience.NewPipeline[int](benchGuards...)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, _ = p.Execute(ctx, func(context.Context) (int, error) { return i, nil })
	}
}

// A function wrapped once and called many times.
func BenchmarkPipelineWrappedOnce(b *testing.B) {
	call := resilience.NewPipeline[int](benchGuards...).Wrap(func(context.Context) (int, error) { return 1, nil })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = call(ctx)
	}
}

// The floor: the same function called directly.
func BenchmarkPipelineBaselineDirectCall(b *testing.B) {
	fn := func(context.Context) (int, error) { return 1, nil }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = fn(ctx)
	}
}

func BenchmarkChainRun(b *testing.B) {
	c := resilience.NewChain(benchGuards...)
	fn := func(context.Context) error { return nil }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Run(ctx, fn)
	}
}

// An adapted Policy pays for its Wrap on every call; the guards above do not.
func BenchmarkPipelineAdaptedPolicy(b *testing.B) {
	wrapping := resilience.PolicyFunc[int](func(next resilience.Func[int]) resilience.Func[int] {
		return func(ctx context.Context) (int, error) { return next(ctx) }
	})
	p := resilience.NewPipeline[int](pass, resilience.Adapt[int](wrapping), pass, pass)
	fn := func(context.Context) (int, error) { return 1, nil }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = p.Execute(ctx, fn)
	}
}
