package bulkhead_test

import (
	"context"
	"testing"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/bulkhead"
)

// Run: go test -run '^$' -bench . -benchmem ./resilience/bulkhead/

func mustBulkhead(b *testing.B, n int) *bulkhead.Bulkhead {
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: n})
	if err != nil {
		b.Fatal(err)
	}
	return bh
}

func BenchmarkAcquireRelease(b *testing.B) {
	b.Run("TryAcquire/serial", func(b *testing.B) {
		bh := mustBulkhead(b, 64)
		for b.Loop() {
			p, _ := bh.TryAcquire()
			p.Release()
		}
	})
	b.Run("Acquire/serial", func(b *testing.B) {
		bh := mustBulkhead(b, 64)
		ctx := context.Background()
		for b.Loop() {
			p, _ := bh.Acquire(ctx)
			p.Release()
		}
	})
	b.Run("TryAcquire/parallel", func(b *testing.B) {
		bh := mustBulkhead(b, 1<<20)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p, _ := bh.TryAcquire()
				p.Release()
			}
		})
	})
}

// BenchmarkGuard runs an error-only call through a chain holding the
// bulkhead alone; the chain's own cost is part of the figure.
func BenchmarkGuard(b *testing.B) {
	bh := mustBulkhead(b, 1<<20)
	c := resilience.NewChain(bh)
	ctx := context.Background()
	op := func(context.Context) error { return nil }
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			_ = c.Run(ctx, op)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = c.Run(ctx, op)
			}
		})
	})
}

func BenchmarkAdaptiveGuard(b *testing.B) {
	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Initial: 1000})
	if err != nil {
		b.Fatal(err)
	}
	c := resilience.NewChain(a)
	ctx := context.Background()
	op := func(context.Context) error { return nil }
	for b.Loop() {
		_ = c.Run(ctx, op)
	}
}
