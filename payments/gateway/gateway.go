package gateway

import (
	"context"
	"errors"
	"sync"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/outbox"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/health"
)

// Gateway settles payments through the bank, FX and log of its [Config],
// each behind its own pipeline of policies. Build it with [New] and stop it
// with [Gateway.Close]; it is safe for concurrent use by any number of
// goroutines.
type Gateway struct {
	cfg     Config
	ledger  *ledger
	bank    *bankPath
	fx      *fxPath
	log     *logPath
	checker *health.Checker // nil when no dependency can be probed

	reconcileWait backoff.Strategy // spacing of a pending payment's checks

	ctx    context.Context // cancelled by Close: ends the loops and their work in flight
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// New builds the gateway's pipelines, starts its health checks, reconciler
// and outbox replayer, and returns it; or an error naming what is wrong
// with cfg.
func New(cfg Config) (*Gateway, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	if cfg.Outbox == nil {
		ob, err := outbox.NewMemory(outbox.Config{})
		if err != nil {
			return nil, err
		}
		cfg.Outbox = ob
	}
	g := &Gateway{cfg: cfg, ledger: newLedger()}
	var err error
	if g.bank, err = newBankPath(&g.cfg); err != nil {
		return nil, err
	}
	if g.fx, err = newFXPath(&g.cfg); err != nil {
		return nil, err
	}
	if g.log, err = newLogPath(&g.cfg); err != nil {
		return nil, err
	}
	if g.reconcileWait, err = newReconcileStrategy(&g.cfg); err != nil {
		return nil, err
	}
	if g.checker, err = newChecker(&g.cfg); err != nil {
		return nil, err
	}
	if g.checker != nil {
		if err := g.checker.Start(); err != nil {
			return nil, err
		}
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.wg.Add(2)
	go g.reconcileLoop()
	go g.replayLoop()
	return g, nil
}

// Close stops the health checks, the reconciler and the outbox replayer and
// waits for them. Payments still pending stay so (see [Gateway.Status]); a
// durable outbox keeps its entries for the next start. Close does not close
// the outbox.
func (g *Gateway) Close() {
	g.once.Do(func() {
		if g.cancel != nil {
			g.cancel()
		}
		if g.checker != nil {
			g.checker.Stop()
		}
		g.wg.Wait()
	})
}

// Registry returns the registry holding the gateway's breakers.
func (g *Gateway) Registry() *breaker.Registry { return g.cfg.Registry }

// Pay settles one payment and says how it ended. It never returns without
// a definite [State]; see the package doc for what each means. Pay may be
// called again with the same request (same idempotency key): a settled
// payment is answered from the ledger without reaching the bank again.
func (g *Gateway) Pay(ctx context.Context, req payments.PaymentRequest) Result {
	start := g.cfg.Clock.Now()
	r := g.pay(ctx, req)
	r.Latency = g.cfg.Clock.Since(start)
	return r
}

func (g *Gateway) pay(ctx context.Context, req payments.PaymentRequest) Result {
	if err := req.Validate(); err != nil {
		return Result{PaymentID: req.IdempotencyKey, State: Declined, Reason: "invalid request: " + err.Error(), Err: err}
	}
	rec, answer := g.ledger.begin(req)
	if answer != nil {
		return *answer
	}
	var (
		started bool // the transfer was handed to the bank's pipeline
		r       Result
	)
	defer func() {
		if r.State == "" { // settle panicked: record what is known, then let the panic go on
			g.ledger.finish(rec, panicked(rec, started))
		}
	}()
	r = g.settle(ctx, rec, &started)
	g.complete(rec, r)
	return r
}

// complete stores a call's outcome; a success owes the log an entry, which
// is counted before the payment leaves the pending set so that Drain never
// sees a moment with neither.
func (g *Gateway) complete(rec *record, r Result) {
	if r.State != Succeeded {
		g.ledger.finish(rec, r)
		return
	}
	g.log.owe()
	g.ledger.finish(rec, r)
	g.log.record(entryFor(rec, r))
}

// panicked is the outcome recorded when a client panicked mid-payment: once
// the transfer had started its effect is unknown (pending: the reconciler
// will find out); before, nothing was sent (rejected).
func panicked(rec *record, started bool) Result {
	r := Result{PaymentID: rec.req.IdempotencyKey, State: Rejected, Settled: rec.settled,
		Reason: "not attempted: the gateway panicked before calling the bank"}
	if started {
		r.State, r.Reason = Pending, "the gateway panicked while calling the bank; the reconciler will resolve the payment"
	}
	return r
}

// settle quotes (when needed) and transfers; it runs with rec claimed.
func (g *Gateway) settle(ctx context.Context, rec *record, started *bool) Result {
	req := rec.req
	r := Result{PaymentID: req.IdempotencyKey}
	settled, quote, ok := g.ledger.settlement(rec)
	if !ok {
		conv, err := g.fx.convert(ctx, req)
		if err != nil {
			return g.fxFailed(r, err)
		}
		settled, quote = conv.settled, conv.quote
		g.ledger.setSettlement(rec, settled, quote)
		r.QuoteFallback, r.QuoteAge = conv.fallback, conv.age
	}
	r.Settled, r.Quote = settled, quote
	tr := payments.TransferRequest{IdempotencyKey: req.IdempotencyKey, From: req.Payer, To: req.Payee, Amount: settled}
	*started = true
	receipt, reached, err := g.bank.transfer(ctx, tr)
	return g.judgeTransfer(r, receipt, reached, err)
}

func (g *Gateway) fxFailed(r Result, err error) Result {
	r.Err = err
	if errors.Is(err, payments.ErrNoRate) || errors.Is(err, payments.ErrUnknownCurrency) || errors.Is(err, payments.ErrOverflow) {
		r.State, r.Reason = Declined, "cannot convert the amount: "+err.Error()
		return r
	}
	r.State = Rejected
	r.Reason = "no exchange rate available (FX service down and no recent quote); not attempted"
	r.RetryAfter = retryAfter(err)
	return r
}

// judgeTransfer turns the bank's answer into a final state.
func (g *Gateway) judgeTransfer(r Result, receipt payments.Receipt, reached bool, err error) Result {
	r.Err = err
	switch {
	case err == nil:
		r.State, r.TransferID = Succeeded, receipt.TransferID
		r.Reason = "the bank moved the money"
		if receipt.Replayed {
			r.Reason = "the bank moved the money (an earlier attempt had committed it)"
		}
	case errors.Is(err, payments.ErrDeclined):
		r.State, r.Reason = Declined, "declined by the bank: "+declineReason(err)
	case errors.Is(err, payments.ErrIdempotencyConflict):
		r.State, r.Reason = Declined, "the bank holds a different transfer under this idempotency key"
	case payments.IsPermanent(err):
		// Before the not-attempted case: a request the bank refuses as
		// invalid will be refused again, so "retry later" would be a lie.
		r.State, r.Reason = Declined, "refused by the bank: "+err.Error()
	case !reached:
		r.State, r.RetryAfter = Rejected, retryAfter(err)
		r.Reason = "not attempted: " + err.Error()
	default:
		r.State = Pending
		r.Reason = "outcome unknown (" + err.Error() + "); the reconciler will resolve it with the bank"
	}
	return r
}

func declineReason(err error) string {
	var d *payments.DeclineError
	if errors.As(err, &d) {
		return d.Reason
	}
	return err.Error()
}

func entryFor(rec *record, r Result) payments.Entry {
	e := payments.Entry{PaymentID: rec.req.IdempotencyKey, TransferID: r.TransferID, Payer: rec.req.Payer,
		Payee: rec.req.Payee, Amount: rec.req.Amount}
	if rec.quote != nil {
		e.Credited = r.Settled
	}
	return e
}

// Lookup returns the current result of the payment with the given
// idempotency key: a pending payment shows the state the reconciler moved it
// to. ok is false for a key the gateway has not settled.
func (g *Gateway) Lookup(key string) (r Result, ok bool) { return g.ledger.lookup(key) }
