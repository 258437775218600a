package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

// storeRetryAfter is the wait suggested to a payment refused because the
// store failed without a hint of its own.
const storeRetryAfter = time.Second

// Pay settles one payment and says how it ended. It never returns without
// a definite [State]; see the package doc for what each means. Pay may be
// called again with the same request (same idempotency key): a settled
// payment is answered from the store without reaching the bank again.
func (g *Gateway) Pay(ctx context.Context, req payments.PaymentRequest) Result {
	start := g.s.Clock.Now()
	r := g.pay(ctx, req)
	r.Latency = g.s.Clock.Since(start)
	return r
}

func (g *Gateway) pay(ctx context.Context, req payments.PaymentRequest) Result {
	key := req.IdempotencyKey
	if err := req.Validate(); err != nil {
		return Result{PaymentID: key, State: Declined, Reason: "invalid request: " + err.Error(), Err: err}
	}
	cr, err := g.store.Claim(ctx, req, g.lease())
	if err != nil {
		return unrecordable(ctx, Result{PaymentID: key}, err)
	}
	switch cr.Status {
	case store.Claimed:
		return g.settle(ctx, &payment{rec: cr.Record, token: cr.Record.Claim.Token})
	case store.Conflict:
		return Result{PaymentID: key, State: Declined, Reason: "the idempotency key was already used for a different payment",
			Err: fmt.Errorf("gateway: %w", payments.ErrIdempotencyConflict)}
	case store.InFlight:
		// Not Rejected: the claimant may already have moved the money.
		return Result{PaymentID: key, State: Pending, Settled: settledOf(cr.Record), Quote: cr.Record.Quote, Err: errInFlight,
			Bank: bankOf(cr.Record), Reason: "the same payment is being processed; its outcome is not known yet (see Lookup)"}
	case store.Replayed:
		r := resultOf(cr.Record)
		r.Replayed = true
		return r
	}
	return unrecordable(ctx, Result{PaymentID: key}, fmt.Errorf("gateway: the store answered a claim with %v", cr.Status))
}

func (g *Gateway) lease() store.Lease {
	return store.Lease{Owner: g.s.Instance, Now: g.s.Clock.Now(), TTL: g.s.ClaimTTL}
}

// payment is one claimed payment being settled by Pay or the reconciler.
type payment struct {
	rec     store.Record // as claimed
	token   string
	started bool // MarkStarted is written: the bank may see the transfer
}

func (p *payment) key() string { return p.rec.Key() }

// settle prices, records and transfers a claimed payment, then records its
// outcome. Its calls to the bank end when its claim does, so a claimant
// that took an expired claim over never races them.
func (g *Gateway) settle(ctx context.Context, p *payment) Result {
	ctx, cancel := g.claimContext(ctx, p.rec.Claim.Expires)
	defer cancel()
	finished := false
	defer func() {
		if !finished { // a client panicked: leave the payment to the reconciler, then let the panic go on
			g.abandon(p)
		}
	}()
	r := g.attempt(ctx, p)
	if r.State == Pending && p.started && g.finishLater(ctx, p, r) {
		finished = true
		return r
	}
	r = g.finish(ctx, p, r)
	finished = true
	return r
}

// finishLater records a pending outcome of a started payment after Pay
// has answered, on a goroutine that Close waits for, and reports false
// when the gateway is closing (the caller then records it itself).
//
// Why the caller need not wait: the answer is Pending whatever the write
// does — MarkStarted made the payment durably pending before the bank was
// called, and a write that fails leaves it pending for the reconciler
// (release). The write only adds the reason and ends the claim early. In
// a hang, the breaker ends every attempt in flight at once, and each of
// those payments queued behind the others' writes before it could be
// answered: in the two-bank drill that put the oldest of them 15–25ms
// further behind the unprotected run, whose payments each end alone.
// Until the write lands, a retry of the payment is answered pending (in
// flight), and Lookup says the same.
func (g *Gateway) finishLater(ctx context.Context, p *payment, r Result) bool {
	g.later.mu.Lock()
	defer g.later.mu.Unlock()
	if g.later.closed {
		return false
	}
	g.later.writes.Add(1)
	go func() {
		defer g.later.writes.Done()
		defer func() {
			// A store that panics here has no caller left to panic in:
			// the payment stays pending for the reconciler, as after
			// any write that failed.
			if v := recover(); v != nil {
				g.release(p, fmt.Errorf("the store panicked recording a pending outcome: %v", v))
			}
		}()
		_ = g.finish(ctx, p, r) // a failed write is logged and released there
	}()
	return true
}

// laterWrites are the writes Pay left running (finishLater).
type laterWrites struct {
	mu     sync.Mutex // protects closed, and adding to writes against Close's wait
	closed bool
	writes sync.WaitGroup
}

// wait stops new writes from being left running and waits for the others.
func (l *laterWrites) wait() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.writes.Wait()
}

// attempt prices the payment (when it needs a conversion not saved by an
// earlier attempt) and sends it to a bank, which marks it started; or,
// when every bank's breaker refuses, rejects it before pricing it.
func (g *Gateway) attempt(ctx context.Context, p *payment) Result {
	req := p.rec.Request
	r := Result{PaymentID: p.key()}
	if refused, ok := g.refusedUpFrontRecorded(ctx, p, r); ok {
		return refused
	}
	settled, quote, ok := p.rec.Settlement()
	if !ok {
		conv, err := g.fx.convert(ctx, req)
		if err != nil {
			return fxFailed(r, err)
		}
		settled, quote = conv.settled, conv.quote
		r.QuoteFallback, r.QuoteAge = conv.fallback, conv.age
		if quote != nil { // a retry must ask the bank for the same amount, whatever the rate then
			if err := g.store.SaveSettlement(ctx, p.key(), p.token, settled, quote); err != nil {
				return unrecordable(ctx, r, err)
			}
		}
	}
	r.Settled, r.Quote = settled, quote
	return g.send(ctx, p, r)
}

// finish records r in the store, with the payment's log entry when it
// succeeded, in one transaction. A success is reported only once that
// write returned: otherwise the payment stays pending in the store (as
// MarkStarted left it) and the reconciler records it later.
func (g *Gateway) finish(ctx context.Context, p *payment, r Result) Result {
	var entry *payments.Entry
	if r.State == Succeeded {
		e := entryOf(p.rec.Request, r, g.s.Clock.Now())
		entry = &e
	}
	wctx, cancel := g.writeContext(ctx)
	defer cancel()
	err := g.store.Finish(wctx, p.key(), p.token, r.toStore(), entry)
	switch {
	case err == nil:
		if entry != nil {
			g.log.wake()
		}
		return r
	case !p.started:
		// Nothing was sent: r stands. The store keeps the payment open
		// until the claim expires, then the reconciler closes it rejected.
		return r
	}
	g.release(p, err)
	return unrecorded(r, err)
}

// writeContext is the context of a store write that must happen even when
// the caller has gone (the bank has been called): not cancelled with ctx,
// bounded by ClaimTTL.
func (g *Gateway) writeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return g.s.Clock.WithTimeout(context.WithoutCancel(ctx), g.s.ClaimTTL)
}

// release hands a started payment whose outcome could not be recorded to
// the reconciler, by ending the claim now, to be checked after
// ReconcileInterval; when the store cannot do that either, the claim ends
// when it expires.
func (g *Gateway) release(p *payment, cause error) {
	g.s.Logger.Warn("gateway: could not record a payment's outcome; it stays pending for the reconciler",
		"payment", p.key(), "error", cause)
	ctx, cancel := g.writeContext(context.Background())
	defer cancel()
	wait := g.s.ReconcileInterval
	_ = g.store.Postpone(ctx, p.key(), p.token, g.s.Clock.Now().Add(wait), wait)
}

// abandon is what a panic mid-payment leaves: a started payment pending
// for the reconciler, one not started closed as rejected.
func (g *Gateway) abandon(p *payment) {
	if p.started {
		g.release(p, errors.New("panic while the bank was called"))
		return
	}
	ctx, cancel := g.writeContext(context.Background())
	defer cancel()
	r := Result{PaymentID: p.key(), State: Rejected, Reason: "not attempted: the gateway panicked before calling the bank"}
	_ = g.store.Finish(ctx, p.key(), p.token, r.toStore(), nil)
}

// unrecordable is a payment refused before the bank was called because the
// store could not record it: full, failing, or the caller gone.
func unrecordable(ctx context.Context, r Result, err error) Result {
	r.State, r.Err = Rejected, err
	switch {
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		r.Reason = "not attempted: the caller gave up before the payment was recorded"
	case errors.Is(err, store.ErrFull):
		r.Reason = "not attempted: the gateway's outbox is full (the transaction log is behind); retry later"
		r.RetryAfter = retryAfter(err)
	default:
		r.Reason = "not attempted: the gateway cannot record payments now (" + err.Error() + ")"
		r.RetryAfter = or(retryAfter(err), storeRetryAfter)
	}
	return r
}

// unrecorded is the answer for a payment the bank was asked to move whose
// outcome the store could not record.
func unrecorded(r Result, err error) Result {
	was := r.State
	r.State, r.Err, r.TransferID, r.RetryAfter = Pending, err, "", 0
	r.Reason = fmt.Sprintf("the bank's answer (%s) could not be recorded (%v); the reconciler will resolve the payment", was, err)
	return r
}

func fxFailed(r Result, err error) Result {
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
func judgeTransfer(r Result, receipt payments.Receipt, reached bool, err error) Result {
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

// entryOf is the log entry of a succeeded payment.
func entryOf(req payments.PaymentRequest, r Result, at time.Time) payments.Entry {
	e := payments.Entry{PaymentID: req.IdempotencyKey, TransferID: r.TransferID, Payer: req.Payer,
		Payee: req.Payee, Amount: req.Amount, At: at}
	if r.Quote != nil {
		e.Credited = r.Settled
	}
	return e
}
