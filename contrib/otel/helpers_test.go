package riprapotel_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/chaos"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/hedge"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/throttle"
	"github.com/riprap-go/riprap/resilience/timeout"
)

var errDown = errors.New("bank down")

func ok(context.Context) error   { return nil }
func fail(context.Context) error { return errDown }

// run passes one call through guards and returns its error.
func run(ctx context.Context, fn func(context.Context) error, guards ...resilience.Guard) error {
	return resilience.Run(ctx, fn, guards...)
}

// components holds one riprap component of each kind, each with some
// history, for tests that export them all.
type components struct {
	registry  *breaker.Registry
	breaker   *breaker.Breaker
	limiter   *ratelimit.Limiter
	keyed     *ratelimit.Keyed
	bulkhead  *bulkhead.Bulkhead
	adaptive  *bulkhead.Adaptive
	retry     *backoff.Retry
	budget    *backoff.Budget
	timeout   *timeout.Timeout
	checker   *health.Checker
	throttle  *throttle.Throttle
	hedger    *hedge.Hedger
	injector  *chaos.Injector
	bulkSlots bulkhead.Permit
}

func newComponents(t *testing.T, clk *clock.Mock) *components {
	t.Helper()
	c := &components{registry: &breaker.Registry{}}
	var err error
	c.breaker, err = breaker.New(breaker.Config{Name: "bank", ConsecutiveFailures: 2, OpenWait: time.Second, Clock: clk})
	require.NoError(t, err)
	_, err = c.registry.GetOrCreate("fx", breaker.Config{Clock: clk})
	require.NoError(t, err)
	c.limiter, err = ratelimit.NewWithConfig(ratelimit.Config{Name: "api", Rate: ratelimit.PerSecond(1), Burst: 3, Clock: clk})
	require.NoError(t, err)
	require.NoError(t, run(context.Background(), ok, c.limiter))
	c.keyed, err = ratelimit.NewKeyed(ratelimit.KeyedConfig{Name: "merchants", Rate: ratelimit.PerSecond(1), Burst: 1, Clock: clk})
	require.NoError(t, err)
	require.NoError(t, c.keyed.Admit("m1"))
	require.Error(t, c.keyed.Admit("m1"))
	c.bulkhead, err = bulkhead.New(bulkhead.Config{Name: "ledger", MaxConcurrent: 3})
	require.NoError(t, err)
	var acquired bool
	c.bulkSlots, acquired = c.bulkhead.TryAcquire()
	require.True(t, acquired)
	t.Cleanup(c.bulkSlots.Release)
	c.adaptive, err = bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Name: "bank-limit", Initial: 4})
	require.NoError(t, err)
	c.budget, err = backoff.NewBudget(backoff.BudgetConfig{Clock: clk})
	require.NoError(t, err)
	c.retry, err = backoff.NewRetry(backoff.RetryConfig{Name: "bank", MaxAttempts: 2, Strategy: backoff.Constant(0),
		Budget: c.budget, Clock: clk})
	require.NoError(t, err)
	require.Error(t, run(context.Background(), fail, c.retry))
	c.timeout, err = timeout.New(timeout.Config{Name: "fx", Timeout: time.Second, Clock: clk})
	require.NoError(t, err)
	c.checker, err = health.New(health.Config{Interval: time.Second, Clock: clk},
		health.Target{Name: "bank", Probe: ok}, health.Target{Name: "fx", Probe: fail})
	require.NoError(t, err)
	_, err = c.checker.Probe(context.Background(), "bank")
	require.NoError(t, err)
	c.throttle, err = throttle.New(throttle.Config{Name: "bank", Clock: clk})
	require.NoError(t, err)
	require.NoError(t, run(context.Background(), ok, c.throttle))
	c.hedger, err = hedge.New(hedge.Config{Name: "fx", Delay: 20 * time.Millisecond, Clock: clk})
	require.NoError(t, err)
	c.injector, err = chaos.Fault(errDown, chaos.Config{Name: "bank-faults", Rate: 1, On: true})
	require.NoError(t, err)
	require.Error(t, run(context.Background(), ok, c.injector))
	return c
}

// adder is what riprapprom.Collector and riprapotel.Metrics have in common.
type adder[S any] interface {
	AddBreakers(*breaker.Registry) S
	AddBreaker(...*breaker.Breaker) S
	AddLimiter(...*ratelimit.Limiter) S
	AddKeyed(...*ratelimit.Keyed) S
	AddBulkhead(...*bulkhead.Bulkhead) S
	AddAdaptive(...*bulkhead.Adaptive) S
	AddRetry(...*backoff.Retry) S
	AddBudget(string, *backoff.Budget) S
	AddTimeout(...*timeout.Timeout) S
	AddChecker(...*health.Checker) S
	AddThrottle(...*throttle.Throttle) S
	AddHedger(...*hedge.Hedger) S
	AddInjector(...*chaos.Injector) S
}

// addAll adds every component of c to s.
func addAll[S adder[S]](s S, c *components) S {
	s.AddBreakers(c.registry).AddBreaker(c.breaker).AddLimiter(c.limiter).AddKeyed(c.keyed).
		AddBulkhead(c.bulkhead).AddAdaptive(c.adaptive).AddRetry(c.retry).AddBudget("shared", c.budget).
		AddTimeout(c.timeout).AddChecker(c.checker).AddThrottle(c.throttle).AddHedger(c.hedger).
		AddInjector(c.injector)
	return s
}
