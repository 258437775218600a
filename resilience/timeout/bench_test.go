package timeout_test

import (
	"context"
	"testing"
	"time"

	"github.com/riprap-go/riprap/resilience/timeout"
)

func ok(context.Context) (int, error) { return 1, nil }

// BenchmarkBareContextWithTimeout is the floor the policy is measured against.
func BenchmarkBareContextWithTimeout(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c, cancel := context.WithTimeout(ctx, time.Second)
		_, _ = ok(c)
		cancel()
	}
}

func BenchmarkCooperative(b *testing.B) {
	call := must(timeout.New[int](time.Second)).Wrap(ok)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = call(ctx)
	}
}

func BenchmarkCooperativeCallerDeadlineEarlier(b *testing.B) {
	call := must(timeout.New[int](time.Second)).Wrap(ok)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond*500)
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = call(ctx)
	}
}

func BenchmarkAbandon(b *testing.B) {
	call := must(timeout.NewWithConfig[int](timeout.Config{Timeout: time.Second, Mode: timeout.Abandon})).Wrap(ok)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = call(ctx)
	}
}

func must[V any](v V, err error) V {
	if err != nil {
		panic(err)
	}
	return v
}
