package pgstore_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/pgstore"
	"github.com/riprap-go/riprap/payments/store"
)

// BenchmarkClaimFinish measures payments recorded per second — Claim,
// MarkStarted, Finish with its log entry, each a transaction — by one
// instance and by four sharing the schema, with one or four payers each.
func BenchmarkClaimFinish(b *testing.B) {
	for _, tc := range []struct{ instances, payers int }{{1, 1}, {1, 4}, {4, 1}, {4, 4}} {
		b.Run(fmt.Sprintf("instances=%d/payers=%d", tc.instances, tc.payers), func(b *testing.B) {
			stores := fleet(b, tc.instances, pgstore.Config{Store: store.Config{MaxOutbox: 1 << 40}})
			var (
				next atomic.Int64
				wg   sync.WaitGroup
			)
			b.ResetTimer()
			for i, s := range stores {
				for range tc.payers {
					wg.Go(func() {
						for k := next.Add(1); k <= int64(b.N); k = next.Add(1) {
							payOnce(b, s, fmt.Sprintf("gw-%d", i), k)
						}
					})
				}
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payments/s")
		})
	}
}

func payOnce(b *testing.B, s store.Store, owner string, k int64) {
	req := payments.PaymentRequest{IdempotencyKey: fmt.Sprintf("bench-%d", k), Payer: "acct_alice0001",
		Payee: "acct_bob00002", Amount: payments.New(100, payments.USD)}
	res, err := s.Claim(ctx, req, lease(owner, t0))
	if err != nil || res.Status != store.Claimed {
		b.Errorf("claim %s: %v %v", req.IdempotencyKey, res.Status, err)
		return
	}
	tok := res.Record.Claim.Token
	if err := s.MarkStarted(ctx, req.IdempotencyKey, tok, "bank"); err != nil {
		b.Error(err)
		return
	}
	if err := s.Finish(ctx, req.IdempotencyKey, tok, success, entryOf(req)); err != nil {
		b.Error(err)
	}
}
