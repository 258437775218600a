package hedge

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBucketsCoverTheRange(t *testing.T) {
	assert.Equal(t, 0, bucketOf(-time.Second))
	assert.Equal(t, 0, bucketOf(time.Nanosecond))
	assert.Equal(t, nBuckets-1, bucketOf(time.Hour))
	prev := 0
	for d := time.Duration(1 << minExp); d < 1<<maxExp; d += d/97 + 1 {
		i := bucketOf(d)
		require.GreaterOrEqual(t, i, prev, "buckets grow with the latency (%v)", d)
		prev = i
		v := bucketValue(i)
		require.LessOrEqual(t, math.Abs(float64(v-d))/float64(d), 1.0/16, "%v reads as %v", d, v)
	}
}

// exactQuantile is the sample of rank ⌈q·n⌉.
func exactQuantile(samples []time.Duration, q float64) time.Duration {
	s := slices.Clone(samples)
	slices.Sort(s)
	return s[int(math.Ceil(q*float64(len(s))))-1]
}

func TestEstimateAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dists := map[string]func() time.Duration{
		"uniform 10-50ms": func() time.Duration {
			return 10*time.Millisecond + time.Duration(rng.Int64N(int64(40*time.Millisecond)))
		},
		"exponential 20ms": func() time.Duration { return time.Duration(rng.ExpFloat64() * float64(20*time.Millisecond)) },
		"log-normal":       func() time.Duration { return time.Duration(math.Exp(rng.NormFloat64() + math.Log(5e6))) },
		"bimodal 5ms/400ms": func() time.Duration {
			if rng.IntN(10) == 0 {
				return 400 * time.Millisecond
			}
			return 5 * time.Millisecond
		},
	}
	for name, draw := range dists {
		for _, q := range []float64{0.5, 0.9, 0.95, 0.99} {
			// A window larger than the sample count: no decay, so the
			// estimate must match the exact quantile up to a bucket.
			e := newEstimator(q, 1<<20)
			samples := make([]time.Duration, 2000)
			for i := range samples {
				samples[i] = draw()
				e.record(samples[i])
			}
			e.maintain(1 << 20)
			want := exactQuantile(samples, q)
			got := e.estimate()
			assert.LessOrEqual(t, math.Abs(float64(got-want))/float64(want), 1.0/16,
				"%s q=%v: estimate %v, exact %v", name, q, got, want)
		}
	}
}

func TestEstimateFollowsAShift(t *testing.T) {
	e := newEstimator(0.9, 200)
	for range 1000 {
		e.record(10 * time.Millisecond)
	}
	assert.InEpsilon(t, float64(10*time.Millisecond), float64(e.estimate()), 1.0/16)
	n := 0
	for e.estimate() < 90*time.Millisecond {
		e.record(100 * time.Millisecond)
		n++
		require.Less(t, n, 2000, "the estimate never moved to the new latency")
	}
	// The old samples weigh 1000 (halved every 200 samples); 90% of the
	// weight must be new, which takes a few windows.
	assert.Less(t, n, 1000)
	assert.InEpsilon(t, float64(100*time.Millisecond), float64(e.estimate()), 1.0/16)
}

func TestEstimateNeedsMinSamples(t *testing.T) {
	e := newEstimator(0.5, 1000)
	for range minSamples - 1 {
		e.record(time.Millisecond)
	}
	assert.Zero(t, e.estimate())
	e.record(time.Millisecond)
	assert.InEpsilon(t, float64(time.Millisecond), float64(e.estimate()), 1.0/16)
}
