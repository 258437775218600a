package gateway

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// bankPath holds the bank's two pipelines, built once:
//
//   - transfers: rate limit → breaker "bank" → retry → timeout per attempt;
//   - status lookups: breaker "bank-status" → timeout.
//
// Status lookups have a breaker of their own, which no health check holds:
// they are how the reconciler learns what became of a pending payment, and
// a hold on transfers (the bank's probe failing) must not keep that answer
// from it. The lookups' own breaker still keeps the reconciler off a bank
// whose lookups really fail.
type bankPath struct {
	bank         payments.Bank
	notProcessed func(error) bool

	breaker       *breaker.Breaker // transfers; bound to the bank's health
	statusBreaker *breaker.Breaker
	limiter       *ratelimit.Limiter
	transfers     resilience.Pipeline[payments.Receipt]
	statuses      resilience.Pipeline[payments.TransferStatus]
}

func newBankPath(s *settings) (*bankPath, error) {
	bp := &bankPath{bank: s.Bank, notProcessed: s.NotProcessed}
	var err error
	if bp.breaker, err = s.breaker("bank", s.BankPolicy.Breaker); err != nil {
		return nil, err
	}
	if bp.statusBreaker, err = s.breaker("bank-status", s.BankPolicy.StatusBreaker); err != nil {
		return nil, err
	}
	rate := s.BankPolicy.Rate
	if rate == (ratelimit.Rate{}) {
		rate = ratelimit.Inf // a limiter still, so that Status shows the bank's traffic
	}
	bp.limiter, err = ratelimit.NewWithConfig(ratelimit.Config{Name: "bank", Rate: rate, Burst: s.BankPolicy.Burst,
		MaxWait: s.BankPolicy.MaxWait, Clock: s.policyClock(), Listeners: s.Listeners})
	if err != nil {
		return nil, err
	}
	retry, err := newBankRetry(s)
	if err != nil {
		return nil, err
	}
	deadline, err := timeout.New(timeout.Config{Timeout: s.BankPolicy.Timeout, Name: "bank",
		Clock: s.policyClock(), Listeners: s.Listeners})
	if err != nil {
		return nil, err
	}
	statusDeadline, err := timeout.New(timeout.Config{Timeout: s.BankPolicy.Timeout, Name: "bank-status",
		Clock: s.policyClock(), Listeners: s.Listeners})
	if err != nil {
		return nil, err
	}
	// The breaker sits outside the retry: it judges each payment once,
	// whatever its attempts.
	bp.transfers = resilience.NewPipeline[payments.Receipt](bp.limiter, bp.breaker, retry, deadline)
	bp.statuses = resilience.NewPipeline[payments.TransferStatus](bp.statusBreaker, statusDeadline)
	return bp, nil
}

func newBankRetry(s *settings) (*backoff.Retry, error) {
	var err error
	budget := s.BankPolicy.Budget
	if budget == nil {
		if budget, err = backoff.NewBudget(backoff.BudgetConfig{Clock: s.policyClock()}); err != nil {
			return nil, err
		}
	}
	strategy := s.BankPolicy.Backoff
	if strategy == nil {
		strategy, err = backoff.NewExponential(backoff.ExponentialConfig{Initial: 50 * time.Millisecond,
			Max: time.Second, Jitter: backoff.FullJitter})
		if err != nil {
			return nil, err
		}
	}
	return backoff.NewRetry(backoff.RetryConfig{Name: "bank", MaxAttempts: s.BankPolicy.Attempts,
		Strategy: strategy, Budget: budget, MaxRetryAfter: s.BankPolicy.MaxRetryAfter,
		Clock: s.policyClock(), Listeners: s.Listeners,
		// A decline, a conflict or an invalid request will be answered the
		// same way again.
		RetryIf: func(_ context.Context, err error) bool { return !payments.IsPermanent(err) }})
}

// transfer sends req through the transfer pipeline. reached reports
// whether some attempt may have been processed by the bank: false only
// when every attempt provably did nothing (never sent, or refused
// unprocessed), so that the payment can be called rejected.
func (bp *bankPath) transfer(ctx context.Context, req payments.TransferRequest) (rc payments.Receipt, reached bool, err error) {
	var sent atomic.Bool // attempts run one at a time, but a timeout may abandon one
	rc, err = bp.transfers.Execute(ctx, func(ctx context.Context) (payments.Receipt, error) {
		if err := ctx.Err(); err != nil {
			return payments.Receipt{}, err // never sent: provably not processed
		}
		rc, err := bp.bank.Transfer(ctx, req)
		if err == nil || !bp.notProcessed(err) {
			sent.Store(true)
		}
		return rc, err
	})
	return rc, sent.Load(), err
}

// status looks the transfer of a payment up at the bank.
func (bp *bankPath) status(ctx context.Context, key string) (payments.TransferStatus, error) {
	return bp.statuses.Execute(ctx, func(ctx context.Context) (payments.TransferStatus, error) {
		return bp.bank.Status(ctx, key)
	})
}

func retryAfter(err error) time.Duration {
	d, _ := resilience.RetryAfter(err)
	return d
}
