package breaker

import (
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Memory per breaker, measured as the bytes New allocates: the breaker, its
// closed phase and its window, the settings being shared. Issue 15's
// bounds: 320 bytes with the defaults (a count window of 100 calls), 640
// with a time window of 10 buckets.
func TestBytesPerBreaker(t *testing.T) {
	for _, tt := range []struct {
		name   string
		cfg    Config
		allocs float64
		bytes  float64
	}{
		{"defaults", Config{}, 3, 320},
		{"count window, failure rate", Config{FailureRate: 0.5, WindowSize: 100}, 3, 320},
		{"time window", Config{FailureRate: 0.5, WindowDuration: 10 * time.Second}, 3, 640},
	} {
		t.Run(tt.name, func(t *testing.T) {
			allocs, bytes := newCost(t, tt.cfg)
			assert.Equal(t, tt.allocs, allocs, "allocations per New")
			assert.LessOrEqual(t, bytes, tt.bytes, "bytes per New")
		})
	}
}

// newCost returns the allocations and bytes of one New(cfg), averaged. The
// counters are the process's, so a stray allocation elsewhere (a timer's
// goroutine) may add a little to the bytes; AllocsPerRun rounds it away.
func newCost(t *testing.T, cfg Config) (allocs, bytes float64) {
	t.Helper()
	const n = 1000
	keep := make([]*Breaker, n)
	_, err := New(cfg) // interns the settings
	require.NoError(t, err)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i], _ = New(cfg)
	}
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	allocs = testing.AllocsPerRun(n, func() { keep[0], _ = New(cfg) })
	return allocs, float64(after.TotalAlloc-before.TotalAlloc) / n
}

// The layouts behind those figures: each a single size class, a closed
// phase holding nothing only refusing states use.
func TestStructSizes(t *testing.T) {
	assert.Equal(t, uintptr(128), unsafe.Sizeof(Breaker{}))
	assert.Equal(t, uintptr(128), unsafe.Sizeof(phase{}))
}

// Breakers of one configuration share their settings; a strategy Go cannot
// compare keeps them apart, and the table stops growing at its bound.
func TestSettingsAreShared(t *testing.T) {
	a, err := New(Config{Name: "a", FailureRate: 0.25})
	require.NoError(t, err)
	b, err := New(Config{Name: "b", FailureRate: 0.25})
	require.NoError(t, err)
	assert.Same(t, a.set, b.set)

	f := funcDelay(func(int, time.Duration) time.Duration { return time.Second })
	c, err := New(Config{FailureRate: 0.25, OpenBackoff: f})
	require.NoError(t, err)
	d, err := New(Config{FailureRate: 0.25, OpenBackoff: f})
	require.NoError(t, err)
	assert.NotSame(t, c.set, d.set, "a func is not comparable")

	for i := range 2 * maxInterned {
		_, err := New(Config{OpenWait: time.Duration(i+1) * time.Hour})
		require.NoError(t, err)
	}
	interned.mu.Lock()
	assert.LessOrEqual(t, len(interned.m), maxInterned)
	interned.mu.Unlock()
}

type funcDelay func(int, time.Duration) time.Duration

func (f funcDelay) Delay(n int, prev time.Duration) time.Duration { return f(n, prev) }
