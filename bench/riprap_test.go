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
// peers_test.go. Two forms of the breaker are measured: lib=riprap puts the
// breaker in a pipeline wrapped around the function once, as gobreaker's
// Execute and eapache's Run guard a function; lib=riprap-permit uses the
// two-step Allow/Done, as failsafe's TryAcquirePermit/RecordSuccess does.

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

func newRiprapRetry(tb testing.TB) *backoff.Retry {
	tb.Helper()
	// No jitter, as failsafe's WithBackoff(1ms, 100ms) has none.
	s, err := backoff.NewExponential(backoff.ExponentialConfig{Initial: time.Millisecond, Max: 100 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	r, err := backoff.NewRetry(backoff.RetryConfig{MaxAttempts: 3, Strategy: s})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// newRiprapTimeout is the cooperative 1s timeout; timeout.After needs no
// configuration and returns no error.
func newRiprapTimeout() *timeout.Timeout { return timeout.After(time.Second) }

func newRiprapLimiter(tb testing.TB) *ratelimit.Limiter {
	tb.Helper()
	l, err := ratelimit.New(ratelimit.PerSecond(1_000_000_000), 1_000_000)
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// wrap builds a pipeline once, first guard outermost, around fn.
func wrap(fn resilience.Func[int], guards ...resilience.Guard) resilience.Func[int] {
	return resilience.NewPipeline[int](guards...).Wrap(fn)
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
		f := wrap(okCtx, newRiprapBreaker(b))
		both(b, func() { _, _ = f(ctx) })
	})
	b.Run("lib=riprap-permit", func(b *testing.B) {
		br := newRiprapBreaker(b)
		both(b, func() { permitCall(br, resilience.Success) })
	})
	// The floor under lib=riprap: what any pipeline must do around the
	// two-step API, written by hand: look at the context, ask the breaker,
	// call the function through a func value, report the outcome.
	b.Run("lib=floor-by-hand", func(b *testing.B) {
		br := newRiprapBreaker(b)
		fn := okFunc
		both(b, func() {
			if ctx.Err() != nil {
				return
			}
			p, err := br.Allow()
			if err != nil {
				return
			}
			if _, err = fn(ctx); err != nil {
				p.DoneErr(ctx, err)
				return
			}
			p.Done(resilience.Success)
		})
	})
}

// okFunc is okCtx as a func value the compiler cannot see through.
var okFunc resilience.Func[int] = okCtx

func riprapBreakerOpen(b *testing.B) {
	ctx := context.Background()
	b.Run("lib=riprap", func(b *testing.B) {
		br := newRiprapBreaker(b)
		tripRiprap(br)
		f := wrap(okCtx, br)
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
		ok, fail := wrap(okCtx, br), wrap(failCtx, br)
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
		f := wrap(okCtx, newRiprapRetry(b))
		both(b, func() { _, _ = f(ctx) })
	})
}

func riprapRetryBreaker(b *testing.B) {
	ctx := context.Background()
	b.Run("lib=riprap", func(b *testing.B) {
		f := wrap(okCtx, newRiprapRetry(b), newRiprapBreaker(b))
		both(b, func() { _, _ = f(ctx) })
	})
}

func riprapRetryBreakerTimeout(b *testing.B) {
	ctx := context.Background()
	b.Run("lib=riprap", func(b *testing.B) {
		f := wrap(okCtx, newRiprapRetry(b), newRiprapBreaker(b), newRiprapTimeout())
		both(b, func() { _, _ = f(ctx) })
	})
}

// riprapPerCall runs limit → breaker → retry → timeout, the shape of issue
// 13, in two forms: lib=riprap executes a fresh closure per call (holding
// the call's argument, as a gateway does), lib=riprap-wrapped calls a
// function wrapped once. The difference is what a per-call closure costs.
// The -notimeout rows leave out the timeout, whose context.WithTimeout
// allocates on both sides, so that riprap's own allocations show.
func riprapPerCall(b *testing.B) {
	ctx := context.Background()
	for _, withTimeout := range []bool{true, false} {
		suffix := ""
		if !withTimeout {
			suffix = "-notimeout"
		}
		b.Run("lib=riprap"+suffix, func(b *testing.B) {
			p := perCallPipeline(b, withTimeout)
			var arg atomic.Int64
			both(b, func() {
				req := int(arg.Add(1))
				_, _ = p.Execute(ctx, func(context.Context) (int, error) { return req, nil })
			})
		})
		b.Run("lib=riprap-wrapped"+suffix, func(b *testing.B) {
			f := perCallPipeline(b, withTimeout).Wrap(okCtx)
			both(b, func() { _, _ = f(ctx) })
		})
	}
}

func perCallPipeline(tb testing.TB, withTimeout bool) resilience.Pipeline[int] {
	guards := []resilience.Guard{newRiprapLimiter(tb), newRiprapBreaker(tb), newRiprapRetry(tb)}
	if withTimeout {
		guards = append(guards, newRiprapTimeout())
	}
	return resilience.NewPipeline[int](guards...)
}

func timeWindowConfig(coarse bool) breaker.Config {
	cfg := breakerConfig()
	cfg.ConsecutiveFailures, cfg.FailureRate, cfg.MinimumCalls = 0, 0.5, 10
	cfg.WindowDuration, cfg.CoarseClock = 10*time.Second, coarse
	return cfg
}

// riprapBreakerClosedTimeWindow: the time window reads the clock at the end
// of each call; lib=riprap-coarse reads the coarse clock instead.
func riprapBreakerClosedTimeWindow(b *testing.B) {
	ctx := context.Background()
	newBreaker := func(tb testing.TB, coarse bool) *breaker.Breaker {
		br, err := breaker.New(timeWindowConfig(coarse))
		if err != nil {
			tb.Fatal(err)
		}
		return br
	}
	b.Run("lib=riprap", func(b *testing.B) {
		f := wrap(okCtx, newBreaker(b, false))
		both(b, func() { _, _ = f(ctx) })
	})
	b.Run("lib=riprap-permit", func(b *testing.B) {
		br := newBreaker(b, false)
		both(b, func() { permitCall(br, resilience.Success) })
	})
	b.Run("lib=riprap-coarse", func(b *testing.B) {
		br := newBreaker(b, true)
		both(b, func() { permitCall(br, resilience.Success) })
	})
}

// riprapBreakerMemory: a breaker with the defaults, whose count window of
// 100 calls is what the peers' defaults compare with.
func riprapBreakerMemory(b *testing.B) {
	b.Run("lib=riprap", func(b *testing.B) {
		breakerMemory(b, func() any {
			br, err := breaker.New(breaker.Config{})
			if err != nil {
				b.Fatal(err)
			}
			return br
		})
	})
}

func riprapLimiterAllow(b *testing.B) {
	b.Run("lib=riprap", func(b *testing.B) {
		l := newRiprapLimiter(b)
		both(b, func() { _ = l.Allow() })
	})
	// The floor of an exact limiter whose state is one word: a monotonic
	// clock read and a CAS loop moving that word, as riprap's Allow does
	// without its checks.
	b.Run("lib=floor-since-cas", func(b *testing.B) {
		epoch := time.Now()
		var tat atomic.Int64
		both(b, func() {
			now := int64(time.Since(epoch))
			for {
				old := tat.Load()
				if tat.CompareAndSwap(old, max(old, now)+1) {
					return
				}
			}
		})
	})
}
