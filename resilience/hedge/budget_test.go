package hedge_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/hedge"
)

// The retry budget of package backoff serves as a hedging budget.
var _ hedge.Budget = (*backoff.Budget)(nil)

func TestBudgetExhaustedMeansNoHedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &budget{}
		b.left.Store(1)
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond, MaxHedges: 2, Budget: b})
		s := newScript(step{Delay: 200 * time.Millisecond}, step{Delay: time.Second}, step{Delay: 0})
		v, took, err := execute(context.Background(), h, s)
		require.NoError(t, err)
		assert.Equal(t, "attempt 0", v)
		assert.Equal(t, 200*time.Millisecond, took)
		assert.Equal(t, int64(2), s.started.Load(), "one hedge granted, the second refused")

		s = newScript(step{Delay: 200 * time.Millisecond}, step{Delay: 0})
		_, took, err = execute(context.Background(), h, s)
		require.NoError(t, err)
		assert.Equal(t, 200*time.Millisecond, took, "an empty budget: the call waits for its first attempt")
		assert.Equal(t, int64(1), s.started.Load())
		snap := h.Snapshot()
		assert.Equal(t, uint64(1), snap.Hedges)
		assert.Equal(t, uint64(2), snap.BudgetRefusals)
		assert.Equal(t, int64(2), b.requests.Load(), "every call counts as a request")
	})
}

func TestRetryBudgetBoundsHedges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A floor of one retry per second over a 1s window, and no ratio
		// to speak of: one hedge a second, however many calls are slow.
		b, err := backoff.NewBudget(backoff.BudgetConfig{Ratio: 1e-9, MinPerSecond: 1, Window: time.Second})
		require.NoError(t, err)
		h := newHedger(t, hedge.Config{Delay: 10 * time.Millisecond, Budget: b})
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				s := newScript(step{Delay: 100 * time.Millisecond}, step{Delay: 100 * time.Millisecond})
				_, _, err := execute(context.Background(), h, s)
				assert.NoError(t, err)
			})
		}
		wg.Wait()
		snap := h.Snapshot()
		assert.Equal(t, uint64(1), snap.Hedges)
		assert.Equal(t, uint64(9), snap.BudgetRefusals)
	})
}
