package timeout_test

import (
	"context"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// Run with: go test -run '^$' -bench . -benchmem ./resilience/timeout/

func ok(context.Context) (int, error) { return 1, nil }

// BenchmarkBareContextWithTimeout is the floor the timeout is measured
// against: what a hand-written context.WithTimeout costs.
func BenchmarkBareContextWithTimeout(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c, cancel := context.WithTimeout(ctx, time.Second)
		_, _ = ok(c)
		cancel()
	}
}

// BenchmarkPipelineBare is the pipeline's own cost with no guard.
func BenchmarkPipelineBare(b *testing.B) {
	p := resilience.NewPipeline[int]()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = p.Execute(ctx, ok)
	}
}

func BenchmarkCooperative(b *testing.B) {
	bench(b, timeout.After(time.Second), context.Background())
}

// A subscriber to state changes only must cost a call nothing.
func BenchmarkCooperativeStateChangeListener(b *testing.B) {
	to, err := timeout.New(timeout.Config{Timeout: time.Second,
		Listeners: resilience.Listeners{resilience.OnStateChange(func(resilience.Event) {})}})
	if err != nil {
		b.Fatal(err)
	}
	bench(b, to, context.Background())
}

func BenchmarkCooperativeCallerDeadlineEarlier(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	bench(b, timeout.After(time.Second), ctx)
}

func BenchmarkCooperativeMockClock(b *testing.B) {
	to, err := timeout.New(timeout.Config{Timeout: time.Second, Clock: clock.NewMock()})
	if err != nil {
		b.Fatal(err)
	}
	bench(b, to, context.Background())
}

func BenchmarkAbandon(b *testing.B) {
	to, err := timeout.New(timeout.Config{Timeout: time.Second, Mode: timeout.Abandon})
	if err != nil {
		b.Fatal(err)
	}
	bench(b, to, context.Background())
}

func bench(b *testing.B, to *timeout.Timeout, ctx context.Context) {
	p := resilience.NewPipeline[int](to)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Execute(ctx, ok); err != nil {
			b.Fatal(err)
		}
	}
}
