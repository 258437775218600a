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

// Reconciler limits: payments claimed per store call, and checked at once.
const (
	reconcileBatch   = 64
	reconcileWorkers = 8
)

// replayLoop drains the outbox at start, on every tick, when a payment
// queues an entry and when the log's breaker lets calls through again.
func (g *Gateway) replayLoop() {
	defer g.wg.Done()
	t := g.s.Clock.Ticker(g.s.LogPolicy.ReplayInterval)
	defer t.Stop()
	for {
		g.log.replay(g.ctx, false)
		select {
		case <-g.ctx.Done():
			return
		case <-t.C:
		case <-g.log.kick:
		}
	}
}

// reconcileLoop resolves pending payments at start and on every tick.
func (g *Gateway) reconcileLoop() {
	defer g.wg.Done()
	t := g.s.Clock.Ticker(g.s.ReconcileInterval)
	defer t.Stop()
	for {
		g.reconcile(g.ctx, false)
		select {
		case <-g.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reconcile resolves the payments that are due (every pending one when all
// is set), a batch at a time, until none is left or a batch comes back
// with a payment seen before in this call.
func (g *Gateway) reconcile(ctx context.Context, all bool) {
	seen := map[string]bool{}
	for ctx.Err() == nil {
		dueBy := g.s.Clock.Now()
		if all {
			dueBy = dueBy.Add(100 * 365 * 24 * time.Hour)
		}
		recs, err := g.store.DuePending(ctx, g.lease(), dueBy, reconcileBatch)
		if err != nil || len(recs) == 0 {
			return
		}
		again := false
		for _, rec := range recs {
			again = again || seen[rec.Key()]
			seen[rec.Key()] = true
		}
		g.resolveAll(ctx, recs)
		if again || len(recs) < reconcileBatch {
			return
		}
	}
}

// resolveAll checks recs, up to reconcileWorkers at once. A panic in a
// client is raised again on the caller's goroutine once the others are
// done; the payment it hit stays pending.
func (g *Gateway) resolveAll(ctx context.Context, recs []store.Record) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex // protects panicked
		panicked any
	)
	sem := make(chan struct{}, reconcileWorkers)
	for _, rec := range recs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer func() {
				if p := recover(); p != nil {
					mu.Lock()
					panicked = p
					mu.Unlock()
				}
			}()
			g.resolve(ctx, rec)
		}()
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
}

// resolve settles a claimed payment the reconciler took: an orphan (its
// claimant stopped before calling the bank) is closed as rejected; a
// pending one is looked up at the bank, and a transfer the bank never saw
// is sent again under the same idempotency key, which moves the money at
// most once whatever an earlier attempt still does.
func (g *Gateway) resolve(ctx context.Context, rec store.Record) {
	p := &payment{rec: rec, token: rec.Claim.Token, started: rec.Started}
	ctx, cancel := g.s.Clock.WithDeadline(ctx, rec.Claim.Expires)
	defer cancel()
	finished := false
	defer func() {
		if !finished { // a client panicked
			g.postpone(p)
		}
	}()
	if rec.Result.State == "" && !rec.Started {
		g.finish(ctx, p, Result{PaymentID: rec.Key(), State: Rejected,
			Reason: "not attempted: the gateway handling the payment stopped before calling the bank"})
		finished = true
		return
	}
	r, ok := g.check(ctx, rec)
	finished = true
	if !ok {
		g.postpone(p)
		return
	}
	r.Reason = "resolved by reconciliation: " + r.Reason
	g.finish(ctx, p, r)
}

// check learns the outcome of a pending payment from the bank it was
// handed to (store.Record.Bank), and only there: ok is false while it is
// still unknown. A bank that never saw it is sent it again, never another
// bank: an earlier attempt may still land where it was sent.
func (g *Gateway) check(ctx context.Context, rec store.Record) (Result, bool) {
	r := resultOf(rec)
	r.Err, r.RetryAfter = nil, 0
	a := g.router.byName(rec.Bank)
	if a == nil {
		g.s.Logger.Warn("gateway: a pending payment was handed to a bank this gateway does not have; it stays pending",
			"payment", rec.Key(), "bank", rec.Bank)
		return r, false
	}
	st, err := a.path.status(ctx, rec.Key())
	switch {
	case err == nil && st.State == payments.TransferCompleted:
		r.State, r.TransferID, r.Reason = Succeeded, st.TransferID, "the bank had moved the money"
		a.counts.reconciled.Add(1)
		return r, true
	case err == nil && st.State == payments.TransferDeclined:
		r.State, r.Err = Declined, &payments.DeclineError{Reason: st.DeclineReason}
		r.Reason = "declined by the bank: " + st.DeclineReason
		a.counts.reconciled.Add(1)
		return r, true
	case !errors.Is(err, payments.ErrNotFound):
		return r, false
	}
	req := rec.Request
	tr := payments.TransferRequest{IdempotencyKey: rec.Key(), PaymentID: rec.Key(), From: req.Payer, To: req.Payee,
		Amount: settledOf(rec)}
	h := a.path.transfer(ctx, tr, nil) // the store names this bank already
	next := judgeTransfer(r, h.receipt, h.reached, h.err)
	ok := next.State == Succeeded || next.State == Declined
	if ok {
		a.counts.reconciled.Add(1)
	}
	return next, ok
}

// postpone schedules the next check of a payment still pending, further
// apart each time up to ReconcileMaxInterval, and ends the claim.
func (g *Gateway) postpone(p *payment) {
	if !p.started {
		return // an orphan whose Finish failed: its claim expires, and it is taken again
	}
	wait := g.reconcileWait.Delay(p.rec.Checks+1, p.rec.LastWait)
	ctx, cancel := g.writeContext(context.Background())
	defer cancel()
	_ = g.store.Postpone(ctx, p.key(), p.token, g.s.Clock.Now().Add(wait), wait)
}

// Drain resolves every pending payment and replays the outbox, round after
// round ReconcileInterval apart, until the store holds nothing pending,
// open or queued, or ctx ends. It is what a graceful shutdown (and the
// demo's final report) waits for.
func (g *Gateway) Drain(ctx context.Context) error {
	for {
		g.reconcile(ctx, true)
		g.log.replay(ctx, true)
		st, err := g.store.Stats(ctx)
		if err == nil && st.Pending == 0 && st.Open == 0 && st.Outbox == 0 {
			return nil
		}
		t := g.s.Clock.Timer(g.s.ReconcileInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			st, err = g.store.Stats(context.WithoutCancel(ctx)) // the figures as the drain gives up
			if err != nil {
				return fmt.Errorf("gateway: drain stopped, the store failing (%w): %w", err, ctx.Err())
			}
			return fmt.Errorf("gateway: drain stopped with %d payments pending, %d open and %d log entries queued: %w",
				st.Pending, st.Open, st.Outbox, ctx.Err())
		case <-t.C:
		}
	}
}
