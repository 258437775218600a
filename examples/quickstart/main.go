// Command quickstart is the README's quick start, runnable: it composes a
// rate limit, a retry, a circuit breaker and a timeout around one function
// — a stand-in for an exchange-rate service that works, fails, recovers and
// then turns slow — and prints what each call went through.
//
//	go run ./examples/quickstart
//
// The pipeline is built once; the first guard is the outermost:
//
//	rate limit → retry → breaker → timeout → the function
//
// so the limiter sees one call per request, however many attempts the
// retry makes inside it; the breaker judges every attempt, and an attempt
// made after it opened is refused at once, which ends the retries (the
// breaker's wait is longer than the retry will wait for); and each attempt
// has its own deadline.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/timeout"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// Quote is what the guarded function returns.
type Quote struct {
	Pair string
	Rate string
}

// fxService is the dependency: its mode can be switched between calls, and
// it counts the calls that reach it.
type fxService struct {
	mu    sync.Mutex // protects mode and calls
	mode  string     // "up", "down" or "slow"
	calls int
}

func (s *fxService) set(mode string) { s.mu.Lock(); s.mode = mode; s.mu.Unlock() }

func (s *fxService) reached() int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls }

// Quote answers at once when up, fails when down, and takes 200ms —
// longer than the timeout allows — when slow.
func (s *fxService) Quote(ctx context.Context) (Quote, error) {
	s.mu.Lock()
	s.calls++
	mode := s.mode
	s.mu.Unlock()
	switch mode {
	case "down":
		return Quote{}, errors.New("fx: 503 service unavailable")
	case "slow":
		t := time.NewTimer(200 * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return Quote{}, ctx.Err()
		}
	}
	return Quote{Pair: "USD/EUR", Rate: "0.9215"}, nil
}

// newPipeline builds the stateful parts from their configurations — the
// only errors to check — and composes them, outermost first. The result
// type is written once, at the pipeline.
func newPipeline() (resilience.Pipeline[Quote], error) {
	limiter, err := ratelimit.NewWithConfig(ratelimit.Config{Name: "fx", Rate: ratelimit.PerSecond(10), Burst: 5})
	if err != nil {
		return resilience.Pipeline[Quote]{}, err
	}
	fxBreaker, err := breaker.New(breaker.Config{Name: "fx", ConsecutiveFailures: 2, OpenWait: time.Second})
	if err != nil {
		return resilience.Pipeline[Quote]{}, err
	}
	retry, err := backoff.NewRetry(backoff.RetryConfig{Name: "fx", MaxAttempts: 3,
		Strategy: backoff.Constant(20 * time.Millisecond), MaxRetryAfter: 100 * time.Millisecond})
	if err != nil {
		return resilience.Pipeline[Quote]{}, err
	}
	return resilience.NewPipeline[Quote](limiter, retry, fxBreaker, timeout.After(100*time.Millisecond)), nil
}

func run(out io.Writer) error {
	pipeline, err := newPipeline()
	if err != nil {
		return err
	}
	fx := &fxService{mode: "up"}
	ctx := context.Background()
	call := func(label string) {
		before := fx.reached()
		// A fresh closure per call carries its arguments; the pipeline is
		// not rebuilt for it.
		q, err := pipeline.Execute(ctx, func(ctx context.Context) (Quote, error) { return fx.Quote(ctx) })
		fmt.Fprintf(out, "  %-28s %s (calls reaching the service: %d)\n", label+":", describe(q, err), fx.reached()-before)
	}
	fmt.Fprintln(out, "The service is up.")
	call("quote")
	fmt.Fprintln(out, "The service goes down: 2 failed attempts open the breaker, so the retry's third attempt is refused at once.")
	fx.set("down")
	call("quote")
	call("quote while open")
	fmt.Fprintln(out, "The service recovers; after the breaker's 1s wait, one probe closes it.")
	fx.set("up")
	time.Sleep(time.Second)
	call("probe")
	call("quote")
	fmt.Fprintln(out, "The service turns slow: 2 attempts hit the 100ms timeout and open the breaker again.")
	fx.set("slow")
	call("quote")
	fx.set("up")
	fmt.Fprintln(out, "The service is fast again; after the breaker's wait, a burst of 6 requests meets the rate limit (burst 5, 10/s).")
	time.Sleep(time.Second) // the breaker's wait; the limiter's bucket fills up too
	for i := 1; i <= 6; i++ {
		call(fmt.Sprintf("burst %d", i))
	}
	return nil
}

// describe says how a call ended, in the terms a caller acts on.
func describe(q Quote, err error) string {
	wait, hasWait := resilience.RetryAfter(err)
	wait = wait.Round(10 * time.Millisecond) // the exact figure depends on the clock
	var re *backoff.RetryError
	attempts := 1
	if errors.As(err, &re) {
		attempts = re.Attempts
	}
	switch {
	case err == nil:
		return fmt.Sprintf("ok, %s = %s", q.Pair, q.Rate)
	case errors.Is(err, breaker.ErrOpen):
		return fmt.Sprintf("rejected at attempt %d, breaker open (retry after %s)", attempts, wait)
	case errors.Is(err, ratelimit.ErrLimited):
		return fmt.Sprintf("rejected, rate limited (retry after %s)", wait)
	case errors.Is(err, timeout.ErrTimeout):
		return fmt.Sprintf("failed: timed out %d times", attempts)
	case re != nil:
		return fmt.Sprintf("failed after %d attempts: %v", re.Attempts, re.Err)
	case hasWait:
		return fmt.Sprintf("rejected: %v (retry after %s)", err, wait)
	}
	return "failed: " + err.Error()
}
