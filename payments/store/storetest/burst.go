package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/store"
)

// runBurst has many goroutines pay the same few payments at once, as
// retrying clients and a fleet would, while replayers drain the outbox, and
// checks that each payment was worked on by one claimant, succeeded once
// and was delivered to the log exactly once.
func runBurst(t *testing.T, open Factory) {
	const (
		workers   = 16
		payments  = 40
		replayers = 3
	)
	s := open(t, store.Config{MaxOutbox: payments})
	var (
		finished  [payments]atomic.Int32
		delivered sync.Map // payment ID → *atomic.Int32
		wg        sync.WaitGroup
		done      atomic.Bool
	)
	for w := range workers {
		wg.Go(func() {
			owner := fmt.Sprintf("gw-%d", w)
			for i := range payments {
				req := request(key((i+w)%payments), 100)
				res, err := s.Claim(ctx, req, lease(owner, t0))
				if !assert.NoError(t, err) || res.Status != store.Claimed {
					continue
				}
				tok := res.Record.Claim.Token
				assert.NoError(t, s.MarkStarted(ctx, req.IdempotencyKey, tok, "bank"))
				if assert.NoError(t, s.Finish(ctx, req.IdempotencyKey, tok, succeeded("t"), entryFor(req))) {
					finished[(i+w)%payments].Add(1)
				}
			}
		})
	}
	var rg sync.WaitGroup
	for r := range replayers {
		rg.Go(func() {
			owner := fmt.Sprintf("replayer-%d", r)
			for {
				last := done.Load()
				es, err := s.Next(ctx, lease(owner, t0), 5)
				if !assert.NoError(t, err) {
					return
				}
				for _, e := range es {
					n, _ := delivered.LoadOrStore(e.PaymentID, new(atomic.Int32))
					n.(*atomic.Int32).Add(1)
				}
				if err := s.Ack(ctx, ids(es)...); err != nil && !errors.Is(err, store.ErrClosed) {
					assert.NoError(t, err)
				}
				if last && len(es) == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	done.Store(true)
	rg.Wait()

	for i := range payments {
		assert.Equal(t, int32(1), finished[i].Load(), "payment %s finished once", key(i))
		n, ok := delivered.Load(key(i))
		require.True(t, ok, "payment %s delivered", key(i))
		assert.Equal(t, int32(1), n.(*atomic.Int32).Load(), "payment %s delivered once", key(i))
	}
	st := stats(t, s)
	assert.Equal(t, payments, st.Payments[store.Succeeded])
	assert.Zero(t, st.Outbox)
	assert.Zero(t, st.Reserved)
	assert.Zero(t, st.Claimed)
}
