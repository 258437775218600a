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

// reconcileWorkers is how many payments the reconciler checks at once.
// It claims a payment only when a worker is free to start on it: a claim
// taken for a payment that waits its turn would run out while it waits,
// and its deadline would cut a check the bank answers in time (see
// payments/dst, Findings: reconciler-batch-outlives-its-claim).
const reconcileWorkers = 8

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
// is set), claiming as many as there are free workers each time one frees
// up, until none is left, a claim comes back with a payment seen before
// in this call, or ctx ends. Each payment's claim is thus taken as its
// check starts, and a whole ClaimTTL (at least the longest check, see
// [Config.ClaimTTL]) covers that check. A panic in a client is raised
// again on the caller's goroutine once the other checks are done; the
// payment it hit stays pending.
func (g *Gateway) reconcile(ctx context.Context, all bool) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex // protects panicked
		panicked any
	)
	defer func() {
		wg.Wait()
		if panicked != nil {
			panic(panicked)
		}
	}()
	workers := make(chan struct{}, reconcileWorkers) // a token per busy worker
	seen := map[string]bool{}
	for {
		free := takeFree(ctx, workers)
		if free == 0 {
			return
		}
		dueBy := g.s.Clock.Now()
		if all {
			dueBy = dueBy.Add(100 * 365 * 24 * time.Hour)
		}
		recs, err := g.store.DuePending(ctx, g.lease(), dueBy, free)
		for range free - len(recs) {
			<-workers
		}
		if err != nil {
			return
		}
		again := false
		for _, rec := range recs {
			again = again || seen[rec.Key()]
			seen[rec.Key()] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-workers }()
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
		mu.Lock()
		stop := panicked != nil
		mu.Unlock()
		if again || len(recs) < free || stop {
			return
		}
	}
}

// takeFree waits until a worker is free, then takes it and every other
// free one, and returns how many it took: 0 when ctx ended first.
func takeFree(ctx context.Context, workers chan struct{}) int {
	if ctx.Err() != nil {
		return 0
	}
	select {
	case workers <- struct{}{}:
	case <-ctx.Done():
		return 0
	}
	n := 1
	for {
		select {
		case workers <- struct{}{}:
			n++
		default:
			return n
		}
	}
}

// resolve settles a claimed payment the reconciler took: an orphan (its
// claimant stopped before calling the bank) is closed as rejected; a
// pending one is looked up at the bank, and a transfer the bank never saw
// is sent again under the same idempotency key, which moves the money at
// most once whatever an earlier attempt still does.
func (g *Gateway) resolve(ctx context.Context, rec store.Record) {
	p := &payment{rec: rec, token: rec.Claim.Token, started: rec.Started}
	ctx, cancel := g.claimContext(ctx, rec.Claim.Expires)
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
