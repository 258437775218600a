package bench

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	cenkalti "github.com/cenkalti/backoff/v5"
	eapache "github.com/eapache/go-resiliency/breaker"
	"github.com/failsafe-go/failsafe-go"
	fscb "github.com/failsafe-go/failsafe-go/circuitbreaker"
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
func both(b *testing.B, op func()) {
	b.Run("mode=serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			op()
		}
	})
	b.Run("mode=parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				op()
			}
		})
	})
}
