package bench

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	cenkalti "github.com/cenkalti/backoff/v5"
	eapache "github.com/eapache/go-resiliency/breaker"
	"github.com/failsafe-go/failsafe-go"
	fscb "github.com/failsafe-go/failsafe-go/circuitbreaker"
	fsrate "github.com/failsafe-go/failsafe-go/ratelimiter"
	fsretry "github.com/failsafe-go/failsafe-go/retrypolicy"
	fstimeout "github.com/failsafe-go/failsafe-go/timeout"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"
)

// Peer libraries, configured as their documentation suggests and as close to
// riprap's settings as their options allow: trip on 5 consecutive failures,
// stay open 1 minute, 3 attempts with a short backoff. Nothing here is tuned
// to make a peer slower.

func newGobreaker() *gobreaker.CircuitBreaker[int] {
	return gobreaker.NewCircuitBreaker[int](gobreaker.Settings{
		Name: "bench", MaxRequests: 3, Timeout: time.Minute,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 5 },
	})
}

func newFailsafeBreaker() fscb.CircuitBreaker[int] {
	return fscb.NewBuilder[int]().WithFailureThreshold(5).WithDelay(time.Minute).WithSuccessThreshold(3).Build()
}

func newFailsafeRetry() fsretry.RetryPolicy[int] {
	return fsretry.NewBuilder[int]().WithMaxAttempts(3).WithBackoff(time.Millisecond, 100*time.Millisecond).Build()
}

func newEapache() *eapache.Breaker { return eapache.New(5, 3, time.Minute) }

func newXRate() *rate.Limiter { return rate.NewLimiter(rate.Limit(1e9), 1_000_000) }

// newFailsafeLimiter is failsafe's bursty limiter, a billion permits a
// second, so that it always has room like the others.
func newFailsafeLimiter() fsrate.RateLimiter[int] {
	return fsrate.NewBursty[int](1_000_000_000, time.Second)
}

// The time-window breakers: open at a failure rate of 50% over the last
// 10s once 10 calls were made.
func newGobreakerTimeWindow() *gobreaker.CircuitBreaker[int] {
	return gobreaker.NewCircuitBreaker[int](gobreaker.Settings{
		Name: "bench", MaxRequests: 3, Timeout: time.Minute,
		Interval: 10 * time.Second, BucketPeriod: time.Second,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.Requests >= 10 && 2*c.TotalFailures >= c.Requests
		},
	})
}

func newFailsafeTimeWindow() fscb.CircuitBreaker[int] {
	return fscb.NewBuilder[int]().WithFailureRateThreshold(0.5, 10, 10*time.Second).
		WithDelay(time.Minute).WithSuccessThreshold(3).Build()
}

var errPeer = errors.New("dependency failed")

func peersBreakerClosed(b *testing.B) {
	b.Run("lib=gobreaker", func(b *testing.B) {
		cb := newGobreaker()
		both(b, func() { _, _ = cb.Execute(okInt) })
	})
	b.Run("lib=failsafe", func(b *testing.B) {
		cb := newFailsafeBreaker()
		both(b, func() {
			if cb.TryAcquirePermit() {
				cb.RecordSuccess()
			}
		})
	})
	b.Run("lib=eapache", func(b *testing.B) {
		cb := newEapache()
		both(b, func() { _ = cb.Run(okErr) })
	})
}

func peersBreakerOpen(b *testing.B) {
	b.Run("lib=gobreaker", func(b *testing.B) {
		cb := newGobreaker()
		tripGobreaker(cb)
		both(b, func() { _, _ = cb.Execute(okInt) })
	})
	b.Run("lib=failsafe", func(b *testing.B) {
		cb := newFailsafeBreaker()
		cb.Open()
		both(b, func() {
			if cb.TryAcquirePermit() {
				cb.RecordSuccess()
			}
		})
	})
	b.Run("lib=eapache", func(b *testing.B) {
		cb := newEapache()
		tripEapache(cb)
		both(b, func() { _ = cb.Run(okErr) })
	})
}

func peersBreakerQuarterFailures(b *testing.B) {
	b.Run("lib=gobreaker", func(b *testing.B) {
		cb := newGobreaker()
		var n atomic.Uint64
		both(b, func() {
			if n.Add(1)%4 == 0 {
				_, _ = cb.Execute(failInt)
			} else {
				_, _ = cb.Execute(okInt)
			}
		})
		requireClosed(b, cb.State() == gobreaker.StateClosed)
	})
	b.Run("lib=failsafe", func(b *testing.B) {
		cb := newFailsafeBreaker()
		var n atomic.Uint64
		both(b, func() {
			if cb.TryAcquirePermit() {
				if n.Add(1)%4 == 0 {
					cb.RecordError(errPeer)
				} else {
					cb.RecordSuccess()
				}
			}
		})
		requireClosed(b, cb.IsClosed())
	})
	// No eapache row: its breaker counts errors that come less than its
	// timeout apart, successes in between notwithstanding, so with a
	// 1-minute timeout it opens after 20 calls of this scenario and the row
	// would time rejections.
}

func peersRetryFirstSuccess(b *testing.B) {
	ctx := context.Background()
	b.Run("lib=cenkalti", func(b *testing.B) {
		both(b, func() { _, _ = cenkalti.Retry(ctx, okInt, cenkalti.WithMaxTries(3)) })
	})
	b.Run("lib=failsafe", func(b *testing.B) {
		ex := failsafe.With[int](newFailsafeRetry())
		both(b, func() { _, _ = ex.Get(okInt) })
	})
}

func peersRetryBreaker(b *testing.B) {
	b.Run("lib=failsafe", func(b *testing.B) {
		ex := failsafe.With[int](newFailsafeRetry(), newFailsafeBreaker())
		both(b, func() { _, _ = ex.Get(okInt) })
	})
}

func peersRetryBreakerTimeout(b *testing.B) {
	b.Run("lib=failsafe", func(b *testing.B) {
		ex := failsafe.With[int](newFailsafeRetry(), newFailsafeBreaker(), fstimeout.New[int](time.Second))
		both(b, func() { _, _ = ex.Get(okInt) })
	})
}

func peersLimiterAllow(b *testing.B) {
	b.Run("lib=xrate", func(b *testing.B) {
		l := newXRate()
		both(b, func() { _ = l.Allow() })
	})
	b.Run("lib=failsafe", func(b *testing.B) {
		l := newFailsafeLimiter()
		both(b, func() { _ = l.TryAcquirePermit() })
	})
}

func peersBreakerClosedTimeWindow(b *testing.B) {
	b.Run("lib=gobreaker", func(b *testing.B) {
		cb := newGobreakerTimeWindow()
		both(b, func() { _, _ = cb.Execute(okInt) })
	})
	b.Run("lib=failsafe", func(b *testing.B) {
		cb := newFailsafeTimeWindow()
		both(b, func() {
			if cb.TryAcquirePermit() {
				cb.RecordSuccess()
			}
		})
	})
}

// peersPerCall: failsafe runs a fresh closure through an executor built
// once, its usual form, with the same four policies in the same order.
func peersPerCall(b *testing.B) {
	for _, withTimeout := range []bool{true, false} {
		name := "lib=failsafe"
		policies := []failsafe.Policy[int]{newFailsafeLimiter(), newFailsafeBreaker(), newFailsafeRetry()}
		if withTimeout {
			policies = append(policies, fstimeout.New[int](time.Second))
		} else {
			name += "-notimeout"
		}
		b.Run(name, func(b *testing.B) {
			ex := failsafe.With(policies...)
			var arg atomic.Int64
			both(b, func() {
				req := int(arg.Add(1))
				_, _ = ex.Get(func() (int, error) { return req, nil })
			})
		})
	}
}

// peersBreakerMemory builds each peer's breaker with its defaults.
func peersBreakerMemory(b *testing.B) {
	b.Run("lib=gobreaker", func(b *testing.B) {
		breakerMemory(b, func() any { return gobreaker.NewCircuitBreaker[int](gobreaker.Settings{}) })
	})
	b.Run("lib=failsafe", func(b *testing.B) {
		breakerMemory(b, func() any { return fscb.NewBuilder[int]().Build() })
	})
	b.Run("lib=eapache", func(b *testing.B) {
		breakerMemory(b, func() any { return eapache.New(5, 3, time.Minute) })
	})
}

func tripGobreaker(cb *gobreaker.CircuitBreaker[int]) {
	for range 5 {
		_, _ = cb.Execute(failInt)
	}
}

func tripEapache(cb *eapache.Breaker) {
	for range 5 {
		_ = cb.Run(failErr)
	}
}

func okInt() (int, error)   { return 1, nil }
func failInt() (int, error) { return 0, errPeer }
func okErr() error          { return nil }
func failErr() error        { return errPeer }

// both runs op as two sub-benchmarks: serial, and RunParallel on every CPU.
//
// Beside the wall-clock ns/op each reports cpu-ns/op, the CPU time the
// benchmark used per op: the benchmark thread's (serial, locked to its
// thread), or the whole process's divided by the CPUs it can run on at
// once, GOMAXPROCS or fewer (parallel, so that it reads like ns/op would
// with every CPU running the benchmark throughout). On a shared
// machine wall time also counts the time other processes held the CPUs;
// CPU time does not, so it is the steadier figure. In parallel it leaves
// out time spent parked, which favours a library that blocks (a mutex
// that sleeps) over one that spins or never waits.
func both(b *testing.B, op func()) {
	b.Run("mode=serial", func(b *testing.B) {
		b.ReportAllocs()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		start := threadCPU()
		for b.Loop() {
			op()
		}
		reportCPU(b, threadCPU()-start, 1)
	})
	b.Run("mode=parallel", func(b *testing.B) {
		b.ReportAllocs()
		start := processCPU()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				op()
			}
		})
		reportCPU(b, processCPU()-start, min(runtime.GOMAXPROCS(0), runtime.NumCPU()))
	})
}

func reportCPU(b *testing.B, used time.Duration, procs int) {
	if used > 0 && b.N > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N)/float64(procs), "cpu-ns/op")
	}
}
