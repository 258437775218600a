package gateway

import (
	"context"
	"errors"
	"strings"

	"github.com/riprap-go/riprap/payments"
)

// send offers a priced payment to the acquirers in routing order until one
// takes it. It moves on to the next only when the previous one's answer
// proves that bank never processed the payment (a rejection by its guards,
// or an answer NotProcessed recognises); a success, a decline or an
// unknown outcome ends the search at that bank, so that a payment whose
// outcome is unknown at one bank is never sent to another. Each refusal is
// recorded in the ledger (store.Ledger.MarkRefused) before the payment is
// offered to the next bank or answered rejected; when the store fails to
// record it, or to record a handover (MarkStarted), the payment goes no
// further and is answered rejected, unrecordable.
func (g *Gateway) send(ctx context.Context, p *payment, r Result) Result {
	req := p.rec.Request
	tr := payments.TransferRequest{IdempotencyKey: p.key(), PaymentID: p.key(), From: req.Payer, To: req.Payee,
		Amount: r.Settled}
	var refusals []Result
	for i, a := range g.router.order() {
		if i == 0 {
			a.counts.routed.Add(1)
		}
		h := a.path.transfer(ctx, tr, func(ctx context.Context) error { return g.markStarted(ctx, p, a) })
		if h.markErr != nil {
			return refusalUnrecordable(ctx, r, h.markErr, names(refusals))
		}
		next := judgeTransfer(r, h.receipt, h.reached, h.err)
		if next.State != Rejected {
			return a.took(next, refusals)
		}
		a.counts.refused.Add(1)
		next.Bank = a.name
		refusals = append(refusals, next)
		if err := g.markRefused(ctx, p, a.name); err != nil {
			return refusalUnrecordable(ctx, r, err, names(refusals))
		}
		if ctx.Err() != nil {
			break // the caller is gone: no other bank would take it either
		}
	}
	return refusedByAll(r, refusals)
}

// refusedUpFront is the answer for a payment that every acquirer's
// breaker would refuse now (open, held or forced open), or false when one
// may take it. Pay asks before pricing the payment, so that during a
// bank outage a payment costs neither an FX quote nor a store write for
// its settlement only to be refused: the breakers refuse excess work
// before it costs anything, as the guards of admission do. Each acquirer
// counts the refusal, as send would have.
func (g *Gateway) refusedUpFront(r Result) (Result, bool) {
	refusals := make([]Result, 0, len(g.router.acqs))
	for _, a := range g.router.acqs {
		err := a.path.refusing()
		if err == nil {
			return Result{}, false
		}
		next := judgeTransfer(r, payments.Receipt{}, false, err)
		next.Bank = a.name
		refusals = append(refusals, next)
	}
	for i, a := range g.router.acqs {
		if i == 0 {
			a.counts.routed.Add(1)
		}
		a.counts.refused.Add(1)
	}
	return refusedByAll(r, refusals), true
}

// refusedUpFrontRecorded is refusedUpFront for the claimed payment p:
// each refusing bank is recorded in the ledger, in routing order, before
// the payment is answered rejected; a refusal the store fails to record
// makes the answer unrecordable (the payment is rejected either way).
func (g *Gateway) refusedUpFrontRecorded(ctx context.Context, p *payment, r Result) (Result, bool) {
	out, ok := g.refusedUpFront(r)
	if !ok {
		return out, false
	}
	for i, bank := range out.RefusedBy {
		if err := g.markRefused(ctx, p, bank); err != nil {
			return refusalUnrecordable(ctx, r, err, out.RefusedBy[:i+1:i+1]), true
		}
	}
	return out, true
}

// markRefused records in the ledger that bank refused the payment without
// processing it. The write outlives the caller (bounded by ClaimTTL, as
// Finish's is): the refusal happened whether or not the caller waits.
func (g *Gateway) markRefused(ctx context.Context, p *payment, bank string) error {
	wctx, cancel := g.writeContext(ctx)
	defer cancel()
	return g.store.MarkRefused(wctx, p.key(), p.token, bank)
}

// refusalUnrecordable is the answer for a payment whose handover to a
// bank, or a bank's refusal of it, the store failed to record, after the
// banks named in refusedBy refused it.
func refusalUnrecordable(ctx context.Context, r Result, err error, refusedBy []string) Result {
	out := unrecordable(ctx, r, err)
	out.RefusedBy = refusedBy
	return out
}

// markStarted records that the payment is about to be handed to a's bank,
// once a's guards have admitted it.
func (g *Gateway) markStarted(ctx context.Context, p *payment, a *acquirer) error {
	if err := g.store.MarkStarted(ctx, p.key(), p.token, a.name); err != nil {
		return err
	}
	p.started = true
	a.counts.sent.Add(1)
	return nil
}

// took is the result of a payment a's bank answered (or may have), after
// the acquirers of refusals refused it.
func (a *acquirer) took(r Result, refusals []Result) Result {
	r.Bank = a.name
	a.count(r.State)
	if len(refusals) == 0 {
		return r
	}
	a.counts.tookOver.Add(1)
	r.RefusedBy = names(refusals)
	r.Reason += "; at " + a.name + " after " + refusalText(refusals)
	return r
}

// count adds one answer of the bank to a's counts.
func (a *acquirer) count(s State) {
	switch s {
	case Succeeded:
		a.counts.succeeded.Add(1)
	case Declined:
		a.counts.declined.Add(1)
	case Pending:
		a.counts.pending.Add(1)
	}
}

// refusedByAll is the result of a payment every acquirer tried refused:
// rejected, with each refusal's reason and error, and the shortest
// Retry-After any of them gave.
func refusedByAll(r Result, refusals []Result) Result {
	switch len(refusals) {
	case 0:
		r.State, r.Reason = Rejected, "not attempted: no bank to send it to"
		return r
	case 1:
		out := refusals[0]
		out.Bank, out.RefusedBy = "", names(refusals)
		return out
	}
	r.State, r.RefusedBy = Rejected, names(refusals)
	errs := make([]error, 0, len(refusals))
	for _, f := range refusals {
		errs = append(errs, f.Err)
		if f.RetryAfter > 0 && (r.RetryAfter == 0 || f.RetryAfter < r.RetryAfter) {
			r.RetryAfter = f.RetryAfter
		}
	}
	r.Err = errors.Join(errs...)
	r.Reason = "not attempted by any bank: " + refusalText(refusals)
	return r
}

// refusalText explains refusals in one clause: "primary refused it
// (breaker: circuit open …), backup refused it (…)".
func refusalText(refusals []Result) string {
	var b strings.Builder
	for i, f := range refusals {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.Bank + " refused it (" + strings.TrimPrefix(f.Reason, "not attempted: ") + ")")
	}
	return b.String()
}

func names(refusals []Result) []string {
	if len(refusals) == 0 {
		return nil
	}
	out := make([]string, len(refusals))
	for i, f := range refusals {
		out[i] = f.Bank
	}
	return out
}
