package breaker

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// windowStats is what the rate rules look at.
type windowStats struct {
	calls, failures, slow uint64
}

// The layouts of a window, chosen by the settings (see Config.window).
const (
	// layoutBits: a count window keeping one bit per call, failed or not
	// (and one more, slow or not, under the slow-call rule). The default
	// window of 100 calls takes two words.
	layoutBits uint8 = iota
	// layoutBuckets: a count window of many calls per bucket keeping a
	// failure count and a slow-call count per bucket, which is smaller
	// than a bit per call past 64 calls a bucket.
	layoutBuckets
	// layoutTime: a time window, per bucket a call count, a failure count
	// and a slow-call count.
	layoutTime
)

// bitsPerBucketMax is the largest count window, in calls per bucket, kept
// as bits: two words per bucket, the size of a bucket's counters. A
// variable so that tests can put small windows in buckets too.
var bitsPerBucketMax uint64 = 64

// window keeps the outcomes of a counting phase (Closed, MetricsOnly) for
// the rate rules, in ring, laid out as the settings say:
//
//   - layoutBits: the failure bit of call seq (0-based, the phase's
//     sequence) at bit seq mod WindowSize of the first ring, its slow bit at
//     the same place of the second, if any;
//   - layoutBuckets: bucket e (calls e*perBucket to (e+1)*perBucket-1) in
//     words 2i and 2i+1, i = e mod buckets: the bucket number, then its
//     failures and slow calls, 32 bits each;
//   - layoutTime: bucket e (times e*width to (e+1)*width-1 since the
//     breaker's time zero) in words 3i to 3i+2, i = e mod buckets: its call
//     count with its lap (see timeCalls), then the bucket number and the
//     failures and slow calls, like a count bucket.
//
// Successes of a count window write nothing here: their number follows
// from the phase's sequence. Everything is written under Breaker.mu, but
// for a time bucket's call word, which successes update with a CAS.
//
// A count window is the current bucket and the buckets-1 before it, and
// holds between WindowSize-perBucket+1 and WindowSize calls: the bit
// layout counts exactly the calls the bucket layout would.
type window struct {
	next uint64 // count windows: the sequence after the last call written
	ring []uint64
	// spread holds a time window's call words once two successes have
	// collided on one (see timeStripes); nil until then.
	spread atomic.Pointer[timeStripes]
}

// timeStripes spreads the call words of a contended time window over
// stripes, each on cache lines of its own, as adder spreads a count: a
// goroutine adds to the stripe its stack address picks, so two cores
// counting successes in the same bucket no longer fight for one line. A
// bucket's calls are its word in the ring plus its word in every stripe,
// each word tagged with its own lap.
type timeStripes struct {
	stride int // words per stripe: the buckets, rounded up to whole cache lines
	n      int // stripes, a power of two
	words  []uint64
}

// init readies the window of a new phase, before the phase is published.
func (w *window) init(s *settings) {
	switch s.layout {
	case layoutBits:
		n := ringWords(s.countSize)
		if s.slowDur > 0 {
			n *= 2
		}
		w.ring = make([]uint64, n)
		return
	case layoutBuckets:
		w.ring = make([]uint64, 2*s.buckets)
		return
	}
	w.ring = make([]uint64, 3*s.buckets)
	for i := 1; i < len(w.ring); i += 3 {
		w.ring[i] = noBucket
	}
}

// noBucket tags a time slot that has held no failure or slow call: time
// bucket numbers may be negative, and this one, math.MinInt64, is never
// reached.
const noBucket = uint64(1) << 63

func ringWords(size uint64) int { return int((size + 63) / 64) }

// record stores the outcome of a failure or slow call: call seq of a count
// window, or a call ending at now in a time window, where the call itself
// is counted too. b.mu must be held.
func (w *window) record(s *settings, seq uint64, now int64, failed, slow bool) {
	switch s.layout {
	case layoutBits:
		if seq < w.next {
			return // cannot happen: sequences are taken in order under the lock
		}
		n := ringWords(s.countSize)
		// Calls w.next to seq-1 were successes, which take no lock: their
		// places still hold bits from a lap ago.
		writeBits(w.ring[:n], s.countSize, w.next, seq, failed)
		if len(w.ring) > n {
			writeBits(w.ring[n:], s.countSize, w.next, seq, slow)
		}
		w.next = seq + 1
	case layoutBuckets:
		e := seq / s.perBucket
		i := 2 * (e % uint64(s.buckets))
		w.bump(i, e, failed, slow)
	default:
		w.add(s, now)
		e, _, i := s.locate(now)
		w.bump(3*i+1, uint64(e), failed, slow)
	}
}

// bump counts a failure or slow call in the bucket tagged at ring[i],
// resetting it first if it holds an older bucket. Bucket numbers of a time
// window are int64 values stored as uint64.
func (w *window) bump(i, e uint64, failed, slow bool) {
	if tag := w.ring[i]; tag != e {
		if int64(tag) > int64(e) {
			return // the slot holds a newer bucket: the call is out of the window
		}
		w.ring[i], w.ring[i+1] = e, 0
	}
	// Each count saturates rather than carry into the other.
	c := &w.ring[i+1]
	if failed && *c>>32 != math.MaxUint32 {
		*c += 1 << 32
	}
	if slow && uint32(*c) != math.MaxUint32 {
		*c++
	}
}

// stats reads the window of a phase that has seen n calls, at now. b.mu
// must be held.
func (w *window) stats(s *settings, n uint64, now int64) windowStats {
	if s.layout == layoutTime {
		return w.timeStats(s, now)
	}
	if n == 0 {
		return windowStats{}
	}
	cur := (n - 1) / s.perBucket
	var lo uint64
	if b := uint64(s.buckets); cur >= b {
		lo = cur - b + 1
	}
	first := lo * s.perBucket
	st := windowStats{calls: n - first}
	if s.layout == layoutBuckets {
		for i := 0; i < len(w.ring); i += 2 {
			if e := w.ring[i]; e >= lo && e <= cur {
				st.failures += w.ring[i+1] >> 32
				st.slow += w.ring[i+1] & math.MaxUint32
			}
		}
		return st
	}
	if w.next > first {
		k := ringWords(s.countSize)
		st.failures = countBits(w.ring[:k], s.countSize, first, w.next)
		if len(w.ring) > k {
			st.slow = countBits(w.ring[k:], s.countSize, first, w.next)
		}
	}
	return st
}

// writeBits clears the bits of calls from to seq-1 in a ring of size bits,
// and sets or clears the bit of call seq.
func writeBits(ring []uint64, size, from, seq uint64, set bool) {
	eachSpan(size, from, seq, func(word int, mask uint64) { ring[word] &^= mask })
	at := seq % size
	if set {
		ring[at/64] |= 1 << (at % 64)
	} else {
		ring[at/64] &^= 1 << (at % 64)
	}
}

// countBits counts the bits set for calls from to end-1, at most size of
// them, in a ring of size bits.
func countBits(ring []uint64, size, from, end uint64) uint64 {
	var n int
	eachSpan(size, from, end, func(word int, mask uint64) { n += bits.OnesCount64(ring[word] & mask) })
	return uint64(n)
}

// eachSpan calls f with each word, and the mask of its bits, that holds
// calls from to end-1 in a ring of size bits: at most one pass around the
// ring, a word at a time.
func eachSpan(size, from, end uint64, f func(word int, mask uint64)) {
	if end <= from {
		return
	}
	n := min(end-from, size)
	at := from % size
	for n > 0 {
		off := at % 64
		k := min(n, 64-off, size-at) // bits before the end of the word or of the ring
		mask := ^uint64(0) >> (64 - k) << off
		f(int(at/64), mask)
		n -= k
		at += k
		if at == size {
			at = 0
		}
	}
}

// timeCalls packs a time bucket's call count with its lap — the bucket
// number divided by the number of buckets; the slot index gives the rest —
// so that a success can add itself, and start a new bucket, with one CAS
// and no lock. A count of zero means the slot is empty, whatever its lap.
// 32 bits of lap tell apart 2^31 windows, over a century for a one-second
// window; the bucket number itself would wrap in weeks with millisecond
// buckets.
func timeCalls(lap uint32, n uint32) uint64 { return uint64(lap)<<32 | uint64(n) }

// add counts one call ending at now in a time window. It takes no lock.
// The first collision with another add moves the window's call counting
// to stripes (see timeStripes).
func (w *window) add(s *settings, now int64) {
	_, lap, i := s.locate(now)
	if sp := w.spread.Load(); sp != nil {
		sp.add(lap, i)
		return
	}
	if !countCall(&w.ring[3*i], lap, true) {
		w.spreadOut(s).add(lap, i)
	}
}

// spreadOut installs the window's stripes, unless another goroutine did
// first, and returns them.
func (w *window) spreadOut(s *settings) *timeStripes {
	sp := &timeStripes{stride: (s.buckets*8 + cacheLine - 1) / cacheLine * cacheLine / 8, n: stripeCount()}
	sp.words = make([]uint64, sp.n*sp.stride)
	if !w.spread.CompareAndSwap(nil, sp) {
		sp = w.spread.Load()
	}
	return sp
}

func (sp *timeStripes) add(lap uint32, i uint64) {
	countCall(&sp.words[stripe(sp.n)*sp.stride+int(i)], lap, false)
}

// countCall adds one call of lap to a time bucket's call word, starting
// the bucket if the word holds an older lap. It reports false, having
// changed nothing, when once is set and its compare-and-swap lost to
// another goroutine's: the word is contended.
func countCall(word *uint64, lap uint32, once bool) bool {
	tag := timeCalls(lap, 0)
	for {
		old := atomic.LoadUint64(word)
		next := tag | 1
		switch {
		case uint32(old) == 0:
			// empty: start the bucket
		case old&^math.MaxUint32 == tag:
			if uint32(old) == math.MaxUint32 {
				return true
			}
			next = old + 1
		case int32(lap-uint32(old>>32)) < 0:
			return true // the slot holds a later lap: now is out of the window
		}
		if atomic.CompareAndSwapUint64(word, old, next) {
			return true
		}
		if once {
			return false
		}
	}
}

// callsOf returns what a time bucket's call word counts for the lap want.
func callsOf(word *uint64, want uint32) uint64 {
	if v := atomic.LoadUint64(word); uint32(v) != 0 && uint32(v>>32) == want {
		return uint64(uint32(v))
	}
	return 0
}

// timeStats reads a time window at now. b.mu must be held.
func (w *window) timeStats(s *settings, now int64) windowStats {
	cur, curLap, curIdx := s.locate(now)
	n := int64(s.buckets)
	sp := w.spread.Load()
	var st windowStats
	for i := range n {
		// The window is the current bucket and the n-1 before it: slots up
		// to the current index belong to this lap, the others to the last.
		want := curLap
		if i > int64(curIdx) {
			want--
		}
		st.calls += callsOf(&w.ring[3*i], want)
		if sp != nil {
			for k := range sp.n {
				st.calls += callsOf(&sp.words[k*sp.stride+int(i)], want)
			}
		}
		if e := int64(w.ring[3*i+1]); w.ring[3*i+1] != noBucket && cur-e >= 0 && cur-e < n {
			st.failures += w.ring[3*i+2] >> 32
			st.slow += w.ring[3*i+2] & math.MaxUint32
		}
	}
	return st
}

// locate finds the time bucket of now, its lap (how many times the slots
// have been gone round) and its slot index, with one division for each.
func (s *settings) locate(now int64) (e int64, lap uint32, i uint64) {
	e = floorDiv(now, s.bucketWidth)
	n := int64(s.buckets)
	q := floorDiv(e, n)
	return e, uint32(q), uint64(e - q*n)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
