package gateway

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// bankPath holds the bank's pipelines, built once.
type bankPath struct {
	breaker  *breaker.Breaker
	limiter  *ratelimit.Limiter
	transfer func(ctx context.Context, req payments.TransferRequest) (payments.Receipt, bool, error)
	status   resilience.Func[payments.TransferStatus]
}

// transferCall is one Pay's request and what its attempts learned, carried
// to the innermost policy through the context so that the pipeline is
// built once rather than per call.
type transferCall struct {
	req     payments.TransferRequest
	reached atomic.Bool // some attempt may have been processed by the bank
}

type callKey struct{}
type statusKey struct{}

func newBankPath(cfg *Config) (*bankPath, error) {
	bp := &bankPath{}
	bc, err := cfg.breakerConfig("bank", cfg.BankPolicy.Breaker)
	if err != nil {
		return nil, err
	}
	if bp.breaker, err = cfg.Registry.GetOrCreate("bank", bc); err != nil {
		return nil, err
	}
	rate := cfg.BankPolicy.Rate
	if rate == (ratelimit.Rate{}) {
		rate = ratelimit.Inf
	}
	bp.limiter, err = ratelimit.NewWithConfig(ratelimit.Config{Name: "bank", Rate: rate,
		Burst: max(cfg.BankPolicy.Burst, 1), Clock: cfg.Clock, Listeners: cfg.Listeners})
	if err != nil {
		return nil, err
	}
	transfer, err := bp.transferPipeline(cfg)
	if err != nil {
		return nil, err
	}
	bp.transfer = transfer
	bp.status, err = bp.statusPipeline(cfg)
	return bp, err
}

func (bp *bankPath) transferPipeline(cfg *Config) (func(context.Context, payments.TransferRequest) (payments.Receipt, bool, error), error) {
	limit, err := ratelimit.NewPolicy[payments.Receipt](bp.limiter, cfg.BankPolicy.MaxWait)
	if err != nil {
		return nil, err
	}
	budget := cfg.BankPolicy.Budget
	if budget == nil {
		if budget, err = backoff.NewBudget(backoff.BudgetConfig{Clock: cfg.Clock}); err != nil {
			return nil, err
		}
	}
	strategy := cfg.BankPolicy.Backoff
	if strategy == nil {
		strategy, err = backoff.NewExponential(backoff.ExponentialConfig{Initial: 50 * time.Millisecond, Max: time.Second, Jitter: backoff.FullJitter})
		if err != nil {
			return nil, err
		}
	}
	retry, err := backoff.NewRetry(backoff.RetryConfig[payments.Receipt]{Name: "bank", MaxAttempts: cfg.BankPolicy.Attempts,
		Strategy: strategy, Budget: budget, Clock: cfg.Clock, Listeners: cfg.Listeners,
		RetryIf: func(_ context.Context, _ payments.Receipt, err error) bool {
			return err != nil && !payments.IsPermanent(err)
		}})
	if err != nil {
		return nil, err
	}
	deadline, err := timeout.NewWithConfig[payments.Receipt](timeout.Config{Timeout: cfg.BankPolicy.Timeout, Name: "bank",
		Clock: timeoutClock(cfg), Listeners: cfg.Listeners})
	if err != nil {
		return nil, err
	}
	p, err := resilience.NewPipeline(limit, breaker.Policy[payments.Receipt](bp.breaker), retry, deadline)
	if err != nil {
		return nil, err
	}
	notProcessed := cfg.NotProcessed
	bank := cfg.Bank
	call := p.Wrap(func(ctx context.Context) (payments.Receipt, error) {
		c := ctx.Value(callKey{}).(*transferCall)
		if err := ctx.Err(); err != nil {
			return payments.Receipt{}, err // never sent: provably not processed
		}
		rc, err := bank.Transfer(ctx, c.req)
		if err == nil || !notProcessed(err) {
			c.reached.Store(true)
		}
		return rc, err
	})
	return func(ctx context.Context, req payments.TransferRequest) (payments.Receipt, bool, error) {
		c := &transferCall{req: req}
		rc, err := call(context.WithValue(ctx, callKey{}, c))
		return rc, c.reached.Load(), err
	}, nil
}

func (bp *bankPath) statusPipeline(cfg *Config) (resilience.Func[payments.TransferStatus], error) {
	deadline, err := timeout.NewWithConfig[payments.TransferStatus](timeout.Config{Timeout: cfg.BankPolicy.Timeout,
		Name: "bank status", Clock: timeoutClock(cfg), Listeners: cfg.Listeners})
	if err != nil {
		return nil, err
	}
	p, err := resilience.NewPipeline(breaker.Policy[payments.TransferStatus](bp.breaker), deadline)
	if err != nil {
		return nil, err
	}
	bank := cfg.Bank
	return p.Wrap(func(ctx context.Context) (payments.TransferStatus, error) {
		return bank.Status(ctx, ctx.Value(statusKey{}).(string))
	}), nil
}

func (bp *bankPath) lookup(ctx context.Context, key string) (payments.TransferStatus, error) {
	return bp.status(context.WithValue(ctx, statusKey{}, key))
}

// timeoutClock is the clock for timeout policies: nil when the gateway
// runs on the real clock, so that they take their faster real-clock path.
func timeoutClock(cfg *Config) clock.Clock {
	if cfg.realClock {
		return nil
	}
	return cfg.Clock
}

func retryAfter(err error) time.Duration {
	d, _ := resilience.RetryAfter(err)
	return d
}
