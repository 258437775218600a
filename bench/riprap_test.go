package bench

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// The riprap side of every scenario, with the settings the peers get in
// peers_test.go. Two forms of the breaker are measured: lib=riprap wraps a
// function through breaker.Policy, as gobreaker's Execute and eapache's Run
// do; lib=riprap-permit uses the two-step Allow/Done, as failsafe's
// TryAcquirePermit/RecordSuccess does.

func breakerConfig() breaker.Config {
	return breaker.Config{
		Name: "bench", ConsecutiveFailures: 5, OpenWait: time.Minute,
		MaxProbes: 3, SuccessesToClose: 3,
	}
}

func newRiprapBreaker(tb testing.TB) *breaker.Breaker {
	tb.Helper()
	br, err := breaker.New(breakerConfig())
	if err != nil {
		tb.Fatal(err)
	}
	return br
}

func newRiprapRetry(tb testing.TB) resilience.Policy[int] {
	tb.Helper()
	// No jitter, as failsafe's WithBackoff(1ms, 100ms) has none.
	s, err := backoff.NewExponential(backoff.ExponentialConfig{Initial: time.Millisecond, Max: 100 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	r, err := backoff.NewRetry(backoff.RetryConfig[int]{MaxAttempts: 3, Strategy: s})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func newRiprapTimeout(tb testing.TB) resilience.Policy[int] {
	tb.Helper()
	p, err := timeout.New[int](time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// wrap builds a pipeline once, first policy outermost, around fn.
func wrap(tb testing.TB, fn resilience.Func[int], policies ...resilience.Policy[int]) resilience.Func[int] {
	tb.Helper()
	p, err := resilience.NewPipeline(policies...)
	if err != nil {
		tb.Fatal(err)
	}
	return p.Wrap(fn)
}

func okCtx(context.Context) (int, error)   { return 1, nil }
func failCtx(context.Context) (int, error) { return 0, errPeer }

// tripRiprap opens br with 5 failures through the two-step API.
func tripRiprap(br *breaker.Breaker) {
	for range 5 {
		if p, err := br.Allow(); err == nil {
			p.Done(resilience.Failure)
		}
	}
}

func permitCall(br *breaker.Breaker, o resilience.Outcome) {
	if p, err := br.Allow(); err == nil {
		p.Done(o)
	}
}

func riprapBreakerClosed(b *testing.B) {
	ctx := context.Background()
	b.Run("lib=riprap", func(b *testing.B) {
		f := wrap(b, okCtx, breaker.Policy[int](newRiprapBreaker(b)))
		both(b, func() { _, _ = f(ctx) })
	})
	b.Run("lib=riprap-permit", func(b *testing.B) {
		br := newRiprapBreaker(b)
		both(b, func() { permitCall(br, resilience.Success) })
	})
}

func riprapBreakerOpen(b *testing.B) {
	ctx := context.Background()
	b.Run("lib=riprap", func(b *testing.B) {
		br := newRiprapBreaker(b)
		tripRiprap(br)
		f := wrap(b, okCtx, breaker.Policy[int](br))
		both(b, func() { _, _ = f(ctx) })
	})
	b.Run("lib=riprap-permit", func(b *testing.B) {
		br := newRiprapBreaker(b)
		tripRiprap(br)
		both(b, func() { _, _ = br.Allow() })
	})
}

func riprapBreakerQuarterFailures(b *testing.B) {
	ctx := context.Background()
	b.Run("lib=riprap", func(b *testing.B) {
		br := newRiprapBreaker(b)
		ok := wrap(b, okCtx, breaker.Policy[int](br))
		fail := wrap(b, failCtx, breaker.Policy[int](br))
		var n atomic.Uint64
		both(b, func() {
			if n.Add(1)%4 == 0 {
				_, _ = fail(ctx)
			} else {
				_, _ = ok(ctx)
			}
		})
		requireClosed(b, br.State() == breaker.Closed)
	})
	b.Run("lib=riprap-permit", func(b *testing.B) {
		br := newRiprapBreaker(b)
		var n atomic.Uint64
		both(b, func() {
			if n.Add(1)%4 == 0 {
				permitCall(br, resilience.Failure)
			} else {
				permitCall(br, resilience.Success)
			}
		})
		requireClosed(b, br.State() == breaker.Closed)
	})
}

func riprapRetryFirstSuccess(b *testing.B) {
	ctx := context.Background()
	b.Run("lib=riprap", func(b *testing.B) {
		f := wrap(b, okCtx, newRiprapRetry(b))
		both(b, func() { _, _ = f(ctx) })
	})
}

func riprapRetryBreaker(b *testing.B) {
	ctx := context.Background()
	b.Run("lib=riprap", func(b *testing.B) {
		f := wrap(b, okCtx, newRiprapRetry(b), breaker.Policy[int](newRiprapBreaker(b)))
		both(b, func() { _, _ = f(ctx) })
	})
}

func riprapRetryBreakerTimeout(b *testing.B) {
	ctx := context.Background()
	b.Run("lib=riprap", func(b *testing.B) {
		f := wrap(b, okCtx, newRiprapRetry(b), breaker.Policy[int](newRiprapBreaker(b)), newRiprapTimeout(b))
		both(b, func() { _, _ = f(ctx) })
	})
}

func riprapLimiterAllow(b *testing.B) {
	b.Run("lib=riprap", func(b *testing.B) {
		l, err := ratelimit.New(ratelimit.PerSecond(1_000_000_000), 1_000_000)
		if err != nil {
			b.Fatal(err)
		}
		both(b, func() { _ = l.Allow() })
	})
}
