package breaker

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// timedCall is one call of the time-window specification.
type timedCall struct {
	at           int64
	failed, slow bool
}

// timeListStats is the specification of a time window: the calls whose
// bucket is the one of now or one of the buckets-1 before it.
func timeListStats(s *settings, calls []timedCall, now int64) windowStats {
	cur := floorDiv(now, s.bucketWidth)
	var st windowStats
	for _, c := range calls {
		if e := floorDiv(c.at, s.bucketWidth); e <= cur && e > cur-int64(s.buckets) {
			st.calls++
			if c.failed {
				st.failures++
			}
			if c.slow {
				st.slow++
			}
		}
	}
	return st
}

// A time window counts exactly the calls of its buckets, with its call
// words in the ring or, once contended, spread over stripes that several
// goroutines add to. Time only moves forward, by steps small and large
// (whole laps of the ring included), as a breaker's clock does.
func TestTimeWindowMatchesAList(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		buckets := rapid.IntRange(1, 12).Draw(t, "buckets")
		width := time.Duration(rapid.IntRange(1, 50).Draw(t, "bucketMillis")) * time.Millisecond
		cfg := Config{FailureRate: 0.5, WindowDuration: time.Duration(buckets) * width, WindowBuckets: buckets}
		if rapid.Bool().Draw(t, "slowRule") {
			cfg.SlowCallRate, cfg.SlowCallDuration = 0.5, time.Millisecond
		}
		s, err := cfg.settings()
		require.NoError(t, err)
		require.Equal(t, layoutTime, s.layout)
		w := new(window)
		w.init(&s)
		spread := rapid.Bool().Draw(t, "spread")
		if spread {
			w.spreadOut(&s)
		}
		goroutines := rapid.IntRange(1, 4).Draw(t, "goroutines")
		now := rapid.Int64Range(-int64(time.Hour), int64(time.Hour)).Draw(t, "start")
		var calls []timedCall
		for range rapid.IntRange(1, 60).Draw(t, "steps") {
			now += rapid.SampledFrom([]int64{0, 1, int64(width) / 2, int64(width), int64(buckets) * int64(width), 7 * int64(buckets) * int64(width)}).Draw(t, "advance")
			switch rapid.IntRange(0, 2).Draw(t, "kind") {
			case 0: // successes, from several goroutines at once
				n := rapid.IntRange(1, 40).Draw(t, "successes")
				var wg sync.WaitGroup
				for g := range goroutines {
					wg.Go(func() {
						for k := g; k < n; k += goroutines {
							w.add(&s, now)
						}
					})
				}
				wg.Wait()
				for range n {
					calls = append(calls, timedCall{at: now})
				}
			case 1: // a failure or slow call, recorded under the lock
				c := timedCall{at: now, failed: rapid.Bool().Draw(t, "failed")}
				c.slow = s.slowDur > 0 && rapid.Bool().Draw(t, "slow")
				w.record(&s, 0, now, c.failed, c.slow)
				calls = append(calls, c)
			}
			if got, want := w.timeStats(&s, now), timeListStats(&s, calls, now); got != want {
				t.Fatalf("at %d (spread %v): window says %+v, the list %+v", now, spread, got, want)
			}
		}
		if spread && w.spread.Load() == nil {
			t.Fatalf("the stripes are gone")
		}
	})
}
