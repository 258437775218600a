package bench

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// Run with: go test -run '^$' -bench . -benchmem -count 6 . | tee raw.txt
// then: benchstat -col /lib raw.txt (or ./run.sh, which does both).
//
// The riprap side runs first in every scenario, so benchstat's deltas are
// relative to riprap.

// BenchmarkBaseline is the floor every other figure sits on: the closure
// call that `both` makes around each operation, a shared atomic add (the
// least a shared counter costs, contended under RunParallel), and a clock
// read (what a breaker pays when it needs the time). lib=load is an
// atomic load of a shared word, the least a breaker can do to learn its
// state; under RunParallel the word stays shared in every core's cache.
// lib=pipeline is a pipeline of no guards around the function, the floor
// under every lib=riprap row that runs through one.
func BenchmarkBaseline(b *testing.B) {
	b.Run("lib=call", func(b *testing.B) {
		both(b, func() { sinkInt, _ = okIntVar() })
	})
	b.Run("lib=atomic", func(b *testing.B) {
		var n atomic.Uint64
		both(b, func() { n.Add(1) })
	})
	b.Run("lib=load", func(b *testing.B) {
		var n atomic.Uint64
		both(b, func() { sinkUint = n.Load() })
	})
	b.Run("lib=pipeline", func(b *testing.B) {
		f := wrap(okCtx)
		ctx := context.Background()
		both(b, func() { _, _ = f(ctx) })
	})
	b.Run("lib=timenow", func(b *testing.B) {
		both(b, func() { sinkTime = time.Now() })
	})
}

// BenchmarkBreakerClosed: a closed breaker guarding a call that succeeds.
func BenchmarkBreakerClosed(b *testing.B) {
	riprapBreakerClosed(b)
	peersBreakerClosed(b)
}

// BenchmarkBreakerOpen: an open breaker refusing a call.
func BenchmarkBreakerOpen(b *testing.B) {
	riprapBreakerOpen(b)
	peersBreakerOpen(b)
}

// BenchmarkBreakerQuarterFailures: one call in four fails, never five in a
// row, so the breaker stays closed (checked after the run) while recording
// failures, which every library handles off its fastest path.
func BenchmarkBreakerQuarterFailures(b *testing.B) {
	riprapBreakerQuarterFailures(b)
	peersBreakerQuarterFailures(b)
}

// BenchmarkRetryFirstSuccess: a retry policy around a call that succeeds at
// once.
func BenchmarkRetryFirstSuccess(b *testing.B) {
	riprapRetryFirstSuccess(b)
	peersRetryFirstSuccess(b)
}

// BenchmarkRetryBreaker: retry outside a breaker, around a successful call.
func BenchmarkRetryBreaker(b *testing.B) {
	riprapRetryBreaker(b)
	peersRetryBreaker(b)
}

// BenchmarkRetryBreakerTimeout: retry, breaker and a 1s timeout, outermost
// first, around a successful call.
func BenchmarkRetryBreakerTimeout(b *testing.B) {
	riprapRetryBreakerTimeout(b)
	peersRetryBreakerTimeout(b)
}

var (
	sinkInt  int
	sinkUint uint64
	sinkTime time.Time
	// okIntVar is called through a variable so the baseline call is not
	// inlined away.
	okIntVar = okInt
)

// requireClosed stops a benchmark whose breaker opened: its figures would
// time rejections, not the scenario it is named after.
func requireClosed(b *testing.B, closed bool) {
	b.Helper()
	if !closed {
		b.Fatal("the breaker opened: this scenario must keep it closed")
	}
}

// BenchmarkLimiterAllow: a limiter of 1e9 events/s with a burst of a
// million, so it always has room, admitting a call.
func BenchmarkLimiterAllow(b *testing.B) {
	riprapLimiterAllow(b)
	peersLimiterAllow(b)
}

// BenchmarkBreakerClosedTimeWindow: a closed breaker with a failure-rate
// rule over a 10s time window, guarding a call that succeeds.
func BenchmarkBreakerClosedTimeWindow(b *testing.B) {
	riprapBreakerClosedTimeWindow(b)
	peersBreakerClosedTimeWindow(b)
}

// BenchmarkPerCall: limit → breaker → retry → timeout, built once, running
// a fresh closure per call (issue 13). lib=riprap-wrapped is the same
// pipeline around a function wrapped once; the -notimeout rows leave out
// the timeout, whose context.WithTimeout allocates on every side.
func BenchmarkPerCall(b *testing.B) {
	riprapPerCall(b)
	peersPerCall(b)
}

// BenchmarkBreakerMemory: building a breaker with each library's defaults.
// B/op is what construction allocates; the live-B/breaker metric is the
// heap that 10,000 of them keep, per breaker.
func BenchmarkBreakerMemory(b *testing.B) {
	riprapBreakerMemory(b)
	peersBreakerMemory(b)
}

var sinkAny any

// breakerMemory times build and reports the live heap per value it makes.
func breakerMemory(b *testing.B, build func() any) {
	b.Run("mode=new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkAny = build()
		}
		b.ReportMetric(liveBytes(10_000, build), "live-B/breaker")
	})
}

// liveBytes returns the heap that n values of build keep, per value.
func liveBytes(n int, build func() any) float64 {
	keep := make([]any, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i] = build()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}
