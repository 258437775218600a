package breaker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// The count window's two layouts against a list of every call: each must
// count exactly the calls of the current bucket and the buckets-1 before
// it, however long the phase runs, with successes that write nothing.

// listWindow is the specification: every call of the phase, in order.
type listWindow struct {
	failed, slow []bool
}

func (l *listWindow) stats(s *settings) windowStats {
	n := uint64(len(l.failed))
	if n == 0 {
		return windowStats{}
	}
	first := uint64(0)
	if cur := (n - 1) / s.perBucket; cur >= uint64(s.buckets) {
		first = (cur - uint64(s.buckets) + 1) * s.perBucket
	}
	st := windowStats{calls: n - first}
	for i := first; i < n; i++ {
		if l.failed[i] {
			st.failures++
		}
		if l.slow[i] {
			st.slow++
		}
	}
	return st
}

func checkCountWindow(t *rapid.T, layout uint8) {
	buckets := rapid.IntRange(1, 5).Draw(t, "buckets")
	per := rapid.IntRange(1, 70).Draw(t, "perBucket")
	cfg := Config{FailureRate: 0.5, WindowSize: buckets * per, WindowBuckets: buckets, MinimumCalls: 1}
	if rapid.Bool().Draw(t, "slowRule") {
		cfg.SlowCallRate = 0.5
	}
	s, err := cfg.settings()
	if err != nil {
		t.Fatalf("settings: %v", err)
	}
	s.layout = layout
	w := new(window)
	w.init(&s)
	var list listWindow
	// Long runs of successes, so that the ring goes round many times
	// between two recorded calls, and short ones.
	for i, k := range rapid.SliceOfN(rapid.IntRange(0, 3), 1, 80).Draw(t, "steps") {
		successes := rapid.SampledFrom([]int{0, 1, per, buckets*per - 1, 3*buckets*per + 1}).Draw(t, "successes")
		for range successes {
			list.failed, list.slow = append(list.failed, false), append(list.slow, false)
		}
		failed, slow := k&1 != 0, k&2 != 0 && s.slowDur > 0
		if failed || slow {
			w.record(&s, uint64(len(list.failed)), 0, failed, slow)
			list.failed, list.slow = append(list.failed, failed), append(list.slow, slow)
		}
		if got, want := w.stats(&s, uint64(len(list.failed)), 0), list.stats(&s); got != want {
			t.Fatalf("step %d, after %d calls: got %+v, want %+v", i, len(list.failed), got, want)
		}
	}
}

func TestCountWindowBitsMatchAList(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { checkCountWindow(t, layoutBits) })
}

func TestCountWindowBucketsMatchAList(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { checkCountWindow(t, layoutBuckets) })
}

// TestModelWithCountBuckets runs the breaker model with every count window
// kept as buckets of counters, the layout of large windows, which the
// model's small windows would otherwise never reach.
func TestModelWithCountBuckets(t *testing.T) {
	defer func(v uint64) { bitsPerBucketMax = v }(bitsPerBucketMax)
	bitsPerBucketMax = 0
	TestModel(t)
}

// The default window takes two words; a window of 64 calls a bucket, the
// largest kept as bits, takes what its buckets of counters would.
func TestCountWindowLayoutIsTheSmaller(t *testing.T) {
	for _, tt := range []struct {
		cfg    Config
		layout uint8
		words  int
	}{
		{Config{}, layoutBits, 2},
		{Config{SlowCallRate: 0.5}, layoutBits, 4},
		{Config{WindowSize: 640, WindowBuckets: 10}, layoutBits, 10},
		{Config{WindowSize: 650, WindowBuckets: 10}, layoutBuckets, 20},
		{Config{WindowSize: 1 << 30, WindowBuckets: 8}, layoutBuckets, 16},
		{Config{WindowDuration: 10e9}, layoutTime, 30},
	} {
		s, err := tt.cfg.settings()
		require.NoError(t, err)
		w := new(window)
		w.init(&s)
		assert.Equal(t, tt.layout, s.layout, "%+v", tt.cfg)
		assert.Len(t, w.ring, tt.words, "%+v", tt.cfg)
	}
}
