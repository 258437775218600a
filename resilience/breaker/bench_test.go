package breaker_test

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// Run with: go test -run '^$' -bench . -benchmem ./resilience/breaker/
// Every benchmark uses the real clock, as production does.

func mustNew(b *testing.B, cfg breaker.Config) *breaker.Breaker {
	b.Helper()
	br, err := breaker.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return br
}

// serialAndParallel runs op(i) serially and under RunParallel.
func serialAndParallel(b *testing.B, op func(i int)) {
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			op(i)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				op(i)
			}
		})
	})
}

func BenchmarkClosedSuccessCountWindow(b *testing.B) {
	br := mustNew(b, breaker.Config{FailureRate: 0.5, ConsecutiveFailures: 5, WindowSize: 100})
	serialAndParallel(b, func(int) { call(br, resilience.Success) })
}

func BenchmarkClosedSuccessConsecutiveOnly(b *testing.B) {
	br := mustNew(b, breaker.Config{})
	serialAndParallel(b, func(int) { call(br, resilience.Success) })
}

// The same closed success with a listener of state changes only: what
// most users attach (a log line when the breaker opens). It must cost
// nothing.
func BenchmarkClosedSuccessStateChangeListener(b *testing.B) {
	br := mustNew(b, breaker.Config{FailureRate: 0.5, ConsecutiveFailures: 5, WindowSize: 100,
		Listeners: resilience.Listeners{resilience.OnStateChange(func(resilience.Event) {})}})
	serialAndParallel(b, func(int) { call(br, resilience.Success) })
}

// The same with a listener of every kind that counts events, as a naive
// metrics listener would: each call builds and delivers an outcome event
// on its own goroutine, and reads the clock twice to time it.
// On the coarse clock the two reads are loads.
func BenchmarkClosedSuccessCountingListener(b *testing.B) {
	for _, coarse := range []bool{false, true} {
		b.Run(clockName(coarse), func(b *testing.B) {
			var n atomic.Uint64
			br := mustNew(b, breaker.Config{FailureRate: 0.5, ConsecutiveFailures: 5, WindowSize: 100, CoarseClock: coarse,
				Listeners: resilience.Listeners{resilience.OnEvent(func(resilience.Event) { n.Add(1) })}})
			serialAndParallel(b, func(int) { call(br, resilience.Success) })
		})
	}
}

// The breaker as a Guard in a one-guard pipeline running a fresh closure,
// next to the same pipeline with a pass-through guard: the difference is
// the breaker's cost.
func BenchmarkClosedSuccessPipeline(b *testing.B) {
	br := mustNew(b, breaker.Config{FailureRate: 0.5, WindowSize: 100})
	pass := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error { return next.Run(ctx) })
	ctx := context.Background()
	for _, bm := range []struct {
		name  string
		guard resilience.Guard
	}{{"breaker", br}, {"pass-through", pass}} {
		p := resilience.NewPipeline[int](bm.guard)
		b.Run(bm.name, func(b *testing.B) {
			serialAndParallel(b, func(i int) {
				_, _ = p.Execute(ctx, func(context.Context) (int, error) { return i, nil })
			})
		})
	}
}

func BenchmarkOpenRejection(b *testing.B) {
	br := mustNew(b, breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Hour})
	call(br, resilience.Failure)
	if br.State() != breaker.Open {
		b.Fatal("not open")
	}
	serialAndParallel(b, func(int) { _, _ = br.Allow() })
}

func BenchmarkOpenRejectionCountingListener(b *testing.B) {
	var n atomic.Uint64
	br := mustNew(b, breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Hour,
		Listeners: resilience.Listeners{resilience.OnEvent(func(resilience.Event) { n.Add(1) })}})
	call(br, resilience.Failure)
	if br.State() != breaker.Open {
		b.Fatal("not open")
	}
	serialAndParallel(b, func(int) { _, _ = br.Allow() })
}

func BenchmarkForcedOpenRejection(b *testing.B) {
	br := mustNew(b, breaker.Config{})
	br.ForceOpen()
	serialAndParallel(b, func(int) { _, _ = br.Allow() })
}

func BenchmarkHeldOpenRejection(b *testing.B) {
	br := mustNew(b, breaker.Config{})
	br.HoldOpen("health", time.Second)
	serialAndParallel(b, func(int) { _, _ = br.Allow() })
}

func BenchmarkQuarterFailuresStayClosed(b *testing.B) {
	br := mustNew(b, breaker.Config{FailureRate: 0.5, MinimumCalls: 100, WindowSize: 100})
	serialAndParallel(b, func(i int) {
		o := resilience.Success
		if i%4 == 3 {
			o = resilience.Failure
		}
		call(br, o)
	})
	if br.State() != breaker.Closed {
		b.Fatal("breaker opened")
	}
}

// The rules that time calls, on the monotonic clock and on the coarse one.
func BenchmarkClosedSuccessTimeWindow(b *testing.B) {
	for _, coarse := range []bool{false, true} {
		b.Run(clockName(coarse), func(b *testing.B) {
			br := mustNew(b, breaker.Config{FailureRate: 0.5, WindowDuration: 10 * time.Second, CoarseClock: coarse})
			serialAndParallel(b, func(int) { call(br, resilience.Success) })
		})
	}
}

func BenchmarkClosedSuccessSlowCallRule(b *testing.B) {
	for _, coarse := range []bool{false, true} {
		b.Run(clockName(coarse), func(b *testing.B) {
			br := mustNew(b, breaker.Config{SlowCallRate: 0.5, SlowCallDuration: time.Second, WindowSize: 100, CoarseClock: coarse})
			serialAndParallel(b, func(int) { call(br, resilience.Success) })
		})
	}
}

func clockName(coarse bool) string {
	if coarse {
		return "coarse"
	}
	return "monotonic"
}

// BenchmarkSharedAtomicAdd is the floor of any design that counts every
// success in one word: the closed path does exactly one such add.
func BenchmarkSharedAtomicAdd(b *testing.B) {
	var n atomic.Uint64
	serialAndParallel(b, func(int) { n.Add(1) })
}

func BenchmarkTimeNow(b *testing.B) {
	serialAndParallel(b, func(int) { _ = time.Now() })
}

// BenchmarkTimeSince is what the breaker pays per clock read with the real
// clock: the monotonic clock only.
func BenchmarkTimeSince(b *testing.B) {
	base := time.Now()
	serialAndParallel(b, func(int) { _ = time.Since(base) })
}

// BenchmarkAtomicLoad is the floor of a rejection that reads one flag.
func BenchmarkAtomicLoad(b *testing.B) {
	var flag atomic.Bool
	serialAndParallel(b, func(int) { _ = flag.Load() })
}

// heapGrowth returns the live heap bytes build adds, per item.
func heapGrowth(n int, build func(i int) any) float64 {
	keep := build(0)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	items := make([]any, n)
	for i := range items {
		items[i] = build(i)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(items)
	runtime.KeepAlive(keep)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// BenchmarkMemory reports live bytes per breaker (defaults, a 100-call
// count window with a rate rule, a 10-bucket time window) and per entry of
// a 100 000-breaker registry, of time-window breakers and of defaults.
func BenchmarkMemory(b *testing.B) {
	b.Run("defaults", func(b *testing.B) {
		var per float64
		for b.Loop() {
			per = heapGrowth(10_000, func(int) any { return mustNew(b, breaker.Config{}) })
		}
		b.ReportMetric(per, "bytes/breaker")
	})
	b.Run("time-window-10-buckets", func(b *testing.B) {
		cfg := breaker.Config{FailureRate: 0.5, WindowDuration: 10 * time.Second, WindowBuckets: 10}
		var per float64
		for b.Loop() {
			per = heapGrowth(10_000, func(int) any { return mustNew(b, cfg) })
		}
		b.ReportMetric(per, "bytes/breaker")
	})
	b.Run("count-window-100", func(b *testing.B) {
		cfg := breaker.Config{FailureRate: 0.5, WindowSize: 100}
		var per float64
		for b.Loop() {
			per = heapGrowth(10_000, func(int) any { return mustNew(b, cfg) })
		}
		b.ReportMetric(per, "bytes/breaker")
	})
	for name, cfg := range map[string]breaker.Config{
		"registry-100000":          {FailureRate: 0.5, WindowDuration: 10 * time.Second},
		"registry-100000-defaults": {},
	} {
		b.Run(name, func(b *testing.B) { registryMemory(b, cfg) })
	}
}

// registryMemory reports the live heap of a registry of 100 000 breakers
// made from cfg, names and map included.
func registryMemory(b *testing.B, cfg breaker.Config) {
	var per float64
	for b.Loop() {
		per = heapGrowth(1, func(int) any {
			reg := &breaker.Registry{}
			for i := range 100_000 {
				if _, err := reg.GetOrCreate("dep-"+strconv.Itoa(i), cfg); err != nil {
					b.Fatal(err)
				}
			}
			return reg
		})
	}
	b.ReportMetric(per/100_000, "bytes/breaker")
	b.ReportMetric(per/(1<<20), "MiB/registry")
}
