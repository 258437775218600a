package riprapredis_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	riprapredis "github.com/riprap-go/riprap/contrib/redis"
	"github.com/riprap-go/riprap/contrib/redis/internal/redistest"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// A leased limiter takes up to Lease tokens per round trip and spends them
// locally; unspent tokens are dropped at LeaseTTL.
func TestLeasedLimiterTakesTokensInBatches(t *testing.T) {
	srv := redistest.Start(t)
	clk := newMockClock()
	l, _ := newLimiter(t, srv, riprapredis.LimiterConfig{
		Name: "bank", Rate: ratelimit.PerSecond(100), Burst: 10, Lease: 5,
		Time: riprapredis.CallerTime, Clock: clk,
	})
	ctx := context.Background()
	admitted := 0
	for range 100 {
		if l.Admit(ctx) == nil {
			admitted++
		}
	}
	snap := l.Snapshot()
	assert.Equal(t, 10, admitted, "the burst, in two leases")
	assert.Equal(t, uint64(3), snap.RoundTrips, "two leases of 5, one refusal, then cached refusals")
	assert.Equal(t, uint64(90), snap.Rejected)

	clk.Add(50 * time.Millisecond) // 5 tokens earned
	require.NoError(t, l.Admit(ctx))
	snap = l.Snapshot()
	assert.Equal(t, uint64(4), snap.RoundTrips)
	assert.Equal(t, int64(4), snap.LeaseTokens)
	assert.Equal(t, 50*time.Millisecond, snap.LeaseRemaining, "default LeaseTTL: Lease × interval")

	clk.Add(50 * time.Millisecond) // the lease expires unspent
	require.NoError(t, l.Admit(ctx))
	snap = l.Snapshot()
	assert.Equal(t, uint64(4), snap.Expired)
	assert.Equal(t, uint64(5), snap.RoundTrips)
}

// Three leased instances stay within rate × (window + LeaseTTL) + burst in
// every window, with far fewer round trips than calls admitted.
func TestLeasedLimitersKeepTheirDocumentedBound(t *testing.T) {
	srv := redistest.Start(t)
	clk := newMockClock()
	var ls []admitter
	var fleet []*riprapredis.Limiter
	for range 3 {
		l, _ := newLimiter(t, srv, riprapredis.LimiterConfig{
			Name: "bank", Rate: ratelimit.PerSecond(100), Burst: 10, Lease: 5,
			Time: riprapredis.CallerTime, Clock: clk,
		})
		ls, fleet = append(ls, l), append(fleet, l)
	}
	admitted := drive(t, clk, ls, 400, 2, 5*time.Millisecond) // 2s
	noFallbacks(t, ls)
	assert.Empty(t, overAdmitted(admitted, 100, 10, 50*time.Millisecond))
	var trips uint64
	for _, l := range fleet {
		trips += l.Snapshot().RoundTrips
	}
	assert.GreaterOrEqual(t, len(admitted), 200)
	assert.Less(t, trips, uint64(len(admitted)), "fewer round trips than admissions")
	t.Logf("leased: %d admitted with %d round trips", len(admitted), trips)

}

// Concurrent callers share one lease round trip at a time and never
// over-admit, under the race detector.
func TestLeasedLimiterUnderConcurrency(t *testing.T) {
	srv := redistest.Start(t)
	l, _ := newLimiter(t, srv, riprapredis.LimiterConfig{
		Name: "bank", Rate: ratelimit.PerSecond(1000), Burst: 50, Lease: 10,
		Timeout: waitFor, // a slow round trip under the race detector must not fall back
	})
	var mu sync.Mutex
	admitted := 0
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if l.Admit(context.Background()) == nil {
					mu.Lock()
					admitted++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	ttl := 10 * time.Millisecond
	assert.LessOrEqual(t, admitted, int(1000*(elapsed+ttl).Seconds())+50)
	snap := l.Snapshot()
	require.Zero(t, snap.Fallbacks, "every decision came from Redis: %s", snap.LastError)
	assert.Equal(t, uint64(admitted), snap.Admitted)
	assert.Equal(t, uint64(1600-admitted), snap.Rejected)
}
