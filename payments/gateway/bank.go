package gateway

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// bankPath holds one acquirer's pipelines, built once:
//
//   - admission: rate limit → bulkhead (when bounded) → a look at breaker
//     NAME, refusing while it is open, held or forced open (the breaker
//     counts the refusal; no permit is kept);
//   - attempts, run by an admitted transfer: retry → breaker NAME → trip
//     wire → timeout per attempt. The breaker judges each attempt, so it
//     opens as soon as attempts fail. When it opens, the trip wire ends the
//     attempts in flight (their payments are pending, for the reconciler),
//     and the retry, which looks at the breaker before each backoff
//     (backoff.RetryConfig.Admit), stops at once: a payment sent before
//     the breaker opened waits neither its own timeout out, nor a backoff
//     that could only end in a refusal, nor another slow attempt;
//   - status lookups: breaker NAME-status → timeout.
//
// A transfer is recorded as handed to the bank (store.Ledger.MarkStarted)
// between the two transfer pipelines: only once the bank's guards have
// admitted it, so a bank that refuses it costs no store write, and before
// any attempt can reach the bank.
//
// Status lookups have a breaker of their own, which no health check holds:
// they are how the reconciler learns what became of a pending payment, and
// a hold on transfers (the bank's probe failing) must not keep that answer
// from it. The lookups' own breaker still keeps the reconciler off a bank
// whose lookups really fail.
type bankPath struct {
	name         string
	bank         payments.Bank
	notProcessed func(error) bool

	breaker       *breaker.Breaker // transfers; bound to the bank's health
	statusBreaker *breaker.Breaker
	limiter       *ratelimit.Limiter
	admission     resilience.Pipeline[payments.Receipt]
	attempts      resilience.Pipeline[payments.Receipt]
	statuses      resilience.Pipeline[payments.TransferStatus]
}

func newBankPath(s *settings, a Acquirer) (*bankPath, error) {
	bp := &bankPath{name: a.Name, bank: a.Bank, notProcessed: s.NotProcessed}
	pol := a.Policy
	var err error
	wire := newTripWire(a.Name)
	bc := pol.Breaker
	bc.Listeners = append(append(resilience.Listeners(nil), bc.Listeners...), wire.listener())
	if bp.breaker, err = s.breaker(a.Name, bc); err != nil {
		return nil, err
	}
	if bp.statusBreaker, err = s.breaker(a.Name+"-status", pol.StatusBreaker); err != nil {
		return nil, err
	}
	rate := pol.Rate
	if rate == (ratelimit.Rate{}) {
		rate = ratelimit.Inf // a limiter still, so that Status shows the bank's traffic
	}
	bp.limiter, err = ratelimit.NewWithConfig(ratelimit.Config{Name: a.Name, Rate: rate, Burst: pol.Burst,
		MaxWait: pol.MaxWait, Clock: s.policyClock(), Listeners: s.Listeners})
	if err != nil {
		return nil, err
	}
	admission := []resilience.Guard{bp.limiter}
	if pol.MaxConcurrent > 0 {
		bh, err := bulkhead.New(bulkhead.Config{Name: a.Name, MaxConcurrent: pol.MaxConcurrent,
			Clock: s.policyClock(), Listeners: s.Listeners})
		if err != nil {
			return nil, err
		}
		admission = append(admission, bh)
	}
	retry, err := newBankRetry(s, a.Name, pol, func(context.Context) error { return bp.refusing() })
	if err != nil {
		return nil, err
	}
	deadline, err := timeout.New(timeout.Config{Timeout: pol.Timeout, Name: a.Name,
		Clock: s.policyClock(), Listeners: s.Listeners})
	if err != nil {
		return nil, err
	}
	statusDeadline, err := timeout.New(timeout.Config{Timeout: pol.Timeout, Name: a.Name + "-status",
		Clock: s.policyClock(), Listeners: s.Listeners})
	if err != nil {
		return nil, err
	}
	// The breaker sits inside the retry (Polly's and Microsoft's standard
	// order): it judges each attempt. Admission only looks at it, so that a
	// bank known to be failing costs no store write and lets the payment
	// fail over.
	bp.admission = resilience.NewPipeline[payments.Receipt](append(admission, resilience.GuardFunc(bp.lookAtBreaker))...)
	bp.attempts = resilience.NewPipeline[payments.Receipt](append([]resilience.Guard{retry, bp.breaker, wire, deadline}, pol.Inject...)...)
	bp.statuses = resilience.NewPipeline[payments.TransferStatus](bp.statusBreaker, statusDeadline)
	return bp, nil
}

// newBankRetry builds the retry of a bank's attempts. admit looks at the
// bank's breaker before each wait, so that an attempt that timed out while
// the breaker opened ends the payment at once rather than after a backoff
// that only leads to a refusal.
func newBankRetry(s *settings, name string, pol BankPolicy, admit func(context.Context) error) (*backoff.Retry, error) {
	var err error
	budget := pol.Budget
	if budget == nil {
		if budget, err = backoff.NewBudget(backoff.BudgetConfig{Clock: s.policyClock()}); err != nil {
			return nil, err
		}
	}
	return backoff.NewRetry(backoff.RetryConfig{Name: name, MaxAttempts: pol.Attempts,
		Strategy: pol.Backoff, Budget: budget, MaxRetryAfter: pol.MaxRetryAfter,
		Clock: s.policyClock(), Listeners: s.Listeners, Admit: admit,
		RetryIf: func(_ context.Context, err error) bool { return worthRetrying(err, pol.MaxRetryAfter) }})
}

// worthRetrying reports whether a failed attempt deserves another within
// the payment. Not a decline, a conflict or an invalid request: they will
// be answered the same way again. Nor an answer asking for a longer pause
// than maxRetryAfter (a 503 "retry after 3s" in a bank outage): the
// backoff package would still wait maxRetryAfter, then retry against a
// bank that said it would refuse, and the customer would wait that long
// for the same refusal — in a drill's outage, the first payments, sent
// before the breaker opened, took 500ms to be rejected against 1ms with no
// protection. Ending at once hands the payment, with the bank's hint, to
// the next bank or back to the caller as rejected.
func worthRetrying(err error, maxRetryAfter time.Duration) bool {
	if payments.IsPermanent(err) {
		return false
	}
	hint, ok := resilience.RetryAfter(err)
	return !ok || hint <= maxRetryAfter
}

// handover is what became of a transfer offered to one bank.
type handover struct {
	receipt payments.Receipt
	err     error
	// reached reports whether some attempt may have been processed by the
	// bank: false only when every attempt provably did nothing (never
	// sent, or refused unprocessed), so that the payment may be called
	// rejected — and offered to another bank.
	reached bool
	// markErr is the store's refusal to record the handover; nothing was
	// sent then.
	markErr error
}

// transfer offers req to the bank. Once the admission guards let it
// through, mark (when not nil) records that the bank is about to see it;
// only then do the attempts run.
func (bp *bankPath) transfer(ctx context.Context, req payments.TransferRequest, mark func(context.Context) error) handover {
	var h handover
	// Attempts that may have reached the bank: counted before the call, so
	// that an attempt a timeout abandoned still counts; taken back only
	// when the bank's answer proves it did nothing.
	var maybe atomic.Int32
	h.receipt, h.err = bp.admission.Execute(ctx, func(ctx context.Context) (payments.Receipt, error) {
		if mark != nil {
			if h.markErr = mark(ctx); h.markErr != nil {
				// The store failed, not the bank: no evidence for its breaker.
				return payments.Receipt{}, &resilience.Judged{Outcome: resilience.Ignored, Err: h.markErr}
			}
		}
		return bp.attempts.Execute(ctx, func(ctx context.Context) (payments.Receipt, error) {
			if err := ctx.Err(); err != nil {
				return payments.Receipt{}, err // never sent: provably not processed
			}
			maybe.Add(1)
			rc, err := bp.bank.Transfer(ctx, req)
			if err != nil && bp.notProcessed(err) {
				maybe.Add(-1)
			}
			return rc, err
		})
	})
	h.reached = maybe.Load() > 0
	return h
}

// lookAtBreaker refuses a transfer while the bank's breaker does not admit
// calls (open, held open by a health check, forced open), keeping no
// permit: the breaker inside the retry judges the attempts themselves.
func (bp *bankPath) lookAtBreaker(ctx context.Context, next resilience.Next) error {
	if err := bp.refusing(); err != nil {
		return err
	}
	return next.Run(ctx)
}

func (bp *bankPath) refusing() error {
	switch bp.breaker.State() {
	case breaker.Open, breaker.HeldOpen, breaker.ForcedOpen:
	default:
		return nil
	}
	// The breaker itself refuses, so that it counts the refusal (Snapshot's
	// Rejected, the dashboard's and Prometheus' "not permitted"): nearly
	// every payment it keeps off the bank is refused here, not inside the
	// retry. Should its open wait have ended meanwhile, the permit is a
	// probe's slot, handed back at once: the attempt takes its own.
	if p, err := bp.breaker.Allow(); err == nil {
		p.Done(resilience.Ignored)
		return nil
	}
	s := bp.breaker.Snapshot()
	wait := max(s.UntilHalfOpen, s.HoldRemaining)
	return resilience.Reject("breaker", bp.breaker.Name(), breaker.ErrOpen, wait)
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
