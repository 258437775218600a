package hedge

import (
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// The estimator's histogram: octaves of latency from 2^minExp ns (about
// 1µs) to 2^maxExp ns (about 69s), each cut into 2^subBits buckets of equal
// width, plus one bucket below and one above. Reporting a bucket's midpoint
// is off by at most half a bucket's width, which is at most 1/16 of the
// bucket's lower bound: a relative error of at most 6.25% in the range.
const (
	subBits  = 3
	minExp   = 10
	maxExp   = 36
	nBuckets = (maxExp-minExp)<<subBits + 2

	// unit is one sample's weight. Weights are kept in fixed point so that
	// halving them keeps a lone sample for 8 halvings rather than one.
	unit = 1 << 8
	// minSamples is how many samples the estimator needs before its
	// estimate replaces the configured delay.
	minSamples = 32
	// refresh is how many samples pass between two computations of the
	// estimate, which walks every bucket.
	refresh = 16
)

// estimator tracks a quantile of recent latencies in a fixed-size,
// exponentially decaying histogram: every window samples, every weight is
// halved, so a sample's weight halves every window samples and the estimate
// follows a change in the latencies within a window or two. Memory is
// fixed (nBuckets counters), recording is two atomic additions, and every
// refresh samples one goroutine recomputes the estimate, so that reading
// it is an atomic load.
//
// The estimate is the midpoint of the bucket holding the sample of rank
// ⌈q·n⌉ by weight: within 6.25% of that sample's value for latencies from
// 1µs to 69s (clamped outside), and exact in rank but for the decay, which
// weights recent samples more.
type estimator struct {
	q      float64
	window uint64

	buckets [nBuckets]atomic.Uint64
	samples atomic.Uint64
	current atomic.Int64 // the estimate in ns; 0 until minSamples

	mu sync.Mutex // held while one goroutine decays and recomputes
}

func newEstimator(q float64, window int) *estimator {
	return &estimator{q: q, window: uint64(window)}
}

// record adds one latency.
func (e *estimator) record(d time.Duration) {
	e.buckets[bucketOf(d)].Add(unit)
	n := e.samples.Add(1)
	if n%refresh == 0 && n >= minSamples {
		e.maintain(n)
	}
}

// estimate returns the current estimate, or 0 before minSamples.
func (e *estimator) estimate() time.Duration { return time.Duration(e.current.Load()) }

// maintain decays the weights when a window has passed and recomputes the
// estimate. A goroutine that finds another at work skips it: the next
// refresh will do.
func (e *estimator) maintain(n uint64) {
	if !e.mu.TryLock() {
		return
	}
	defer e.mu.Unlock()
	if n%e.window < refresh {
		for i := range e.buckets {
			b := &e.buckets[i]
			for {
				old := b.Load()
				if old == 0 || b.CompareAndSwap(old, old>>1) {
					break
				}
			}
		}
	}
	var counts [nBuckets]uint64
	var total uint64
	for i := range e.buckets {
		counts[i] = e.buckets[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return
	}
	target := uint64(math.Ceil(e.q * float64(total)))
	var sum uint64
	for i, c := range counts {
		sum += c
		if sum >= target {
			e.current.Store(int64(bucketValue(i)))
			return
		}
	}
}

// bucketOf returns the bucket of a latency.
func bucketOf(d time.Duration) int {
	ns := uint64(max(d, 0))
	if ns < 1<<minExp {
		return 0
	}
	e := bits.Len64(ns) - 1 // 2^e <= ns < 2^(e+1)
	if e >= maxExp {
		return nBuckets - 1
	}
	sub := (ns >> (e - subBits)) & (1<<subBits - 1)
	return 1 + (e-minExp)<<subBits + int(sub)
}

// bucketValue returns the latency a bucket stands for: its midpoint, or
// the range's bound for the buckets below and above it.
func bucketValue(i int) time.Duration {
	switch {
	case i <= 0:
		return 1 << minExp
	case i >= nBuckets-1:
		return 1 << maxExp
	}
	e := minExp + (i-1)>>subBits
	sub := (i - 1) & (1<<subBits - 1)
	width := int64(1) << (e - subBits)
	lo := int64(1)<<e + int64(sub)*width
	return time.Duration(lo + width/2)
}
