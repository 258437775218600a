package breaker

import (
	"math"
	"sync/atomic"
)

// windowStats is what the rate rules look at.
type windowStats struct {
	calls, failures, slow uint64
}

// countWindow keeps the last calls of a phase in buckets of perBucket calls.
// The call sequence is phase.calls, so a success needs no work here: the
// number of calls in a bucket follows from the sequence. Only failures and
// slow calls are stored, under Breaker.mu.
//
// The window is the current bucket and the len(slots)-1 before it. Bucket e
// (calls e*perBucket to (e+1)*perBucket-1) lives in slot e % len(slots),
// tagged with e so a slot left from an older bucket reads as empty.
type countWindow struct {
	perBucket uint64
	slots     []countSlot
}

type countSlot struct {
	bucket          uint64
	failures, slows uint32
}

func newCountWindow(perBucket uint64, buckets int) *countWindow {
	return &countWindow{perBucket: perBucket, slots: make([]countSlot, buckets)}
}

// record stores the outcome of call seq (0-based). b.mu must be held.
func (w *countWindow) record(seq uint64, failed, slow bool) {
	e := seq / w.perBucket
	s := &w.slots[e%uint64(len(w.slots))]
	if s.bucket != e {
		if s.bucket > e {
			return // the slot already holds a newer bucket: seq is out of the window
		}
		*s = countSlot{bucket: e}
	}
	if failed {
		s.failures++
	}
	if slow {
		s.slows++
	}
}

// stats reads the window after calls calls. b.mu must be held.
func (w *countWindow) stats(calls uint64) windowStats {
	if calls == 0 {
		return windowStats{}
	}
	cur := (calls - 1) / w.perBucket
	var lo uint64
	if n := uint64(len(w.slots)); cur >= n {
		lo = cur - n + 1
	}
	st := windowStats{calls: calls - lo*w.perBucket}
	for i := range w.slots {
		if s := &w.slots[i]; s.bucket >= lo && s.bucket <= cur {
			st.failures += uint64(s.failures)
			st.slow += uint64(s.slows)
		}
	}
	return st
}

// timeWindow keeps the calls of a phase in buckets of width nanoseconds;
// bucket e (times e*width to (e+1)*width-1 since Breaker.base) lives in slot
// e mod len(slots). The window is the current bucket and the len(slots)-1
// before it, so an idle breaker forgets old calls by their laps alone.
type timeWindow struct {
	width int64
	slots []timeSlot
}

type timeSlot struct {
	// calls packs the lap of its bucket — the bucket number divided by
	// len(slots); the slot index gives the rest — with the number of calls
	// in it, so that a success can add itself, and start a new bucket, with
	// one CAS and no lock. A count of zero means the slot is empty,
	// whatever its lap. 32 bits of lap tell apart 2^31 windows, over a
	// century for a one-second window; the bucket number itself would wrap
	// in weeks with millisecond buckets.
	calls atomic.Uint64

	// Protected by Breaker.mu.
	bucket          int64 // the bucket failures and slows belong to
	failures, slows uint32
}

func newTimeWindow(width int64, buckets int) *timeWindow {
	w := &timeWindow{width: width, slots: make([]timeSlot, buckets)}
	for i := range w.slots {
		w.slots[i].bucket = math.MinInt64
	}
	return w
}

func (w *timeWindow) bucket(now int64) (e int64, s *timeSlot) {
	e, _, i := w.locate(now)
	return e, &w.slots[i]
}

// locate finds the bucket of now, its lap (how many times the slots have
// been gone round) and its slot index, with one division for each.
func (w *timeWindow) locate(now int64) (e int64, lap uint32, i int64) {
	e = floorDiv(now, w.width)
	n := int64(len(w.slots))
	q := floorDiv(e, n)
	return e, uint32(q), e - q*n
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// add counts one call at now. It takes no lock.
func (w *timeWindow) add(now int64) {
	_, lap, i := w.locate(now)
	s := &w.slots[i]
	tag := uint64(lap) << 32
	for {
		old := s.calls.Load()
		next := tag | 1
		switch {
		case uint32(old) == 0:
			// empty: start the bucket
		case old&^math.MaxUint32 == tag:
			if uint32(old) == math.MaxUint32 {
				return
			}
			next = old + 1
		case int32(lap-uint32(old>>32)) < 0:
			return // the slot holds a later lap: now is out of the window
		}
		if s.calls.CompareAndSwap(old, next) {
			return
		}
	}
}

// record counts a failure or a slow call at now (the call itself is counted
// by add). b.mu must be held.
func (w *timeWindow) record(now int64, failed, slow bool) {
	e, s := w.bucket(now)
	if s.bucket != e {
		if s.bucket > e {
			return
		}
		s.bucket, s.failures, s.slows = e, 0, 0
	}
	if failed {
		s.failures++
	}
	if slow {
		s.slows++
	}
}

// stats reads the window at now. b.mu must be held.
func (w *timeWindow) stats(now int64) windowStats {
	cur, curLap, curIdx := w.locate(now)
	n := int64(len(w.slots))
	var st windowStats
	for i := range w.slots {
		s := &w.slots[i]
		// The window is the current bucket and the n-1 before it: slots up
		// to the current index belong to this lap, the others to the last.
		want := curLap
		if int64(i) > curIdx {
			want--
		}
		if v := s.calls.Load(); uint32(v) != 0 && uint32(v>>32) == want {
			st.calls += uint64(uint32(v))
		}
		if d := cur - s.bucket; s.bucket != math.MinInt64 && d >= 0 && d < n {
			st.failures += uint64(s.failures)
			st.slow += uint64(s.slows)
		}
	}
	return st
}
