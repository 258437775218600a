package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/resilience/backoff"
)

// replayLoop drains the outbox on every tick and whenever the log's breaker
// lets calls through again.
func (g *Gateway) replayLoop() {
	defer g.wg.Done()
	t := g.cfg.Clock.Ticker(g.cfg.LogPolicy.ReplayInterval)
	defer t.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-t.C:
		case <-g.log.kick:
		}
		_ = g.log.drain(g.ctx)
	}
}

// reconcileLoop resolves pending payments on every tick.
func (g *Gateway) reconcileLoop() {
	defer g.wg.Done()
	t := g.cfg.Clock.Ticker(g.cfg.ReconcileInterval)
	defer t.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-t.C:
		}
		g.reconcile(g.ctx, false)
	}
}

// reconcile resolves the pending payments that are due (all of them when
// all is set).
func (g *Gateway) reconcile(ctx context.Context, all bool) {
	for _, rec := range g.ledger.due(g.cfg.Clock.Now(), all) {
		if ctx.Err() != nil {
			g.ledger.release(rec, g.cfg.Clock.Now(), 0)
			continue
		}
		g.resolve(ctx, rec)
	}
}

// resolve asks the bank what became of a pending payment. A transfer the
// bank never saw is sent again under the same idempotency key, which can
// move the money at most once whatever an earlier attempt still does.
func (g *Gateway) resolve(ctx context.Context, rec *record) {
	settled := false
	defer func() {
		if !settled { // a client panicked: keep the payment pending for the next round
			g.ledger.release(rec, g.cfg.Clock.Now(), 0)
		}
	}()
	r := rec.result
	st, err := g.bank.lookup(ctx, rec.req.IdempotencyKey)
	switch {
	case err == nil && st.State == payments.TransferCompleted:
		r.State, r.TransferID, r.Err = Succeeded, st.TransferID, nil
		r.Reason = "resolved by reconciliation: the bank had moved the money"
	case err == nil && st.State == payments.TransferDeclined:
		r.State, r.Err = Declined, &payments.DeclineError{Reason: st.DeclineReason}
		r.Reason = "resolved by reconciliation: declined by the bank: " + st.DeclineReason
	case errors.Is(err, payments.ErrNotFound):
		tr := payments.TransferRequest{IdempotencyKey: rec.req.IdempotencyKey, From: rec.req.Payer, To: rec.req.Payee, Amount: r.Settled}
		receipt, reached, terr := g.bank.transfer(ctx, tr)
		next := g.judgeTransfer(r, receipt, reached, terr)
		if next.State != Succeeded && next.State != Declined {
			settled = true
			g.backoff(rec)
			return
		}
		r = next
		r.Reason = "resolved by reconciliation: " + r.Reason
	default:
		settled = true
		g.backoff(rec)
		return
	}
	settled = true
	g.complete(rec, r)
}

// backoff schedules the next check of a payment still pending, further
// apart each time up to ReconcileMaxInterval.
func (g *Gateway) backoff(rec *record) {
	wait := g.reconcileWait.Delay(rec.checks+1, rec.lastWait)
	g.ledger.release(rec, g.cfg.Clock.Now().Add(wait), wait)
}

func newReconcileStrategy(cfg *Config) (backoff.Strategy, error) {
	return backoff.NewExponential(backoff.ExponentialConfig{Initial: cfg.ReconcileInterval,
		Max: max(cfg.ReconcileMaxInterval, cfg.ReconcileInterval), Jitter: backoff.EqualJitter})
}

// Drain resolves every pending payment and replays the outbox, round after
// round ReconcileInterval apart, until nothing is pending or queued, or ctx
// ends. It is what a graceful shutdown (and the demo's final report) waits
// for.
func (g *Gateway) Drain(ctx context.Context) error {
	for {
		g.reconcile(ctx, true)
		_ = g.log.drain(ctx)
		if _, pending := g.ledger.snapshot(); pending == 0 && g.log.depth() == 0 {
			return nil
		}
		t := g.cfg.Clock.Timer(g.cfg.ReconcileInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			_, pending := g.ledger.snapshot()
			return fmt.Errorf("gateway: drain stopped with %d payments pending and %d log entries queued: %w", pending, g.log.depth(), ctx.Err())
		case <-t.C:
		}
	}
}
