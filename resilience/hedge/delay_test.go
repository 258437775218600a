package hedge_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/hedge"
)

func TestQuantileDelayAdapts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: time.Second, Quantile: 0.9, Window: 100})
		call := func(d time.Duration) {
			s := newScript(step{Delay: d}, step{Delay: 10 * d})
			_, _, err := execute(context.Background(), h, s)
			require.NoError(t, err)
		}
		for range 31 {
			call(10 * time.Millisecond)
		}
		assert.Equal(t, time.Second, h.Snapshot().Delay, "the configured delay until 32 samples")
		call(10 * time.Millisecond)
		assert.InEpsilon(t, float64(10*time.Millisecond), float64(h.Snapshot().Delay), 1.0/16)

		// The dependency slows down: the delay follows within a few windows.
		for range 400 {
			call(40 * time.Millisecond)
		}
		snap := h.Snapshot()
		assert.InEpsilon(t, float64(40*time.Millisecond), float64(snap.Delay), 1.0/16)
		assert.Equal(t, uint64(432), snap.Samples)
		assert.Positive(t, snap.Hedges, "calls slower than the old delay were hedged")
	})
}
