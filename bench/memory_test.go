package bench

import (
	"fmt"
	"runtime"
	"testing"

	fscb "github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/breaker"
)

// Issue 15's memory bounds: a breaker with the defaults (a count window of
// 100 calls), one with a 10s time window, and 100,000 default breakers held
// by a registry under their names.
const (
	maxCountWindowBytes = 320
	maxTimeWindowBytes  = 640
	registryBreakers    = 100_000
	maxRegistryMiB      = 40
)

func newDefaultBreaker(tb testing.TB) any {
	br, err := breaker.New(breaker.Config{})
	require.NoError(tb, err)
	return br
}

func newTimeWindowBreaker(tb testing.TB) any {
	br, err := breaker.New(timeWindowConfig(false))
	require.NoError(tb, err)
	return br
}

// BenchmarkBreakerMemoryTimeWindow: building the 10s time-window breaker of
// BenchmarkBreakerClosedTimeWindow; live-B/breaker as in
// BenchmarkBreakerMemory.
func BenchmarkBreakerMemoryTimeWindow(b *testing.B) {
	b.Run("lib=riprap", func(b *testing.B) {
		breakerMemory(b, func() any { return newTimeWindowBreaker(b) })
	})
	b.Run("lib=gobreaker", func(b *testing.B) {
		breakerMemory(b, func() any { return newGobreakerTimeWindow() })
	})
	b.Run("lib=failsafe", func(b *testing.B) {
		breakerMemory(b, func() any { return newFailsafeTimeWindow() })
	})
}

// BenchmarkRegistryMemory reports the heap that 100,000 default breakers
// keep, names and index included: riprap's Registry, and a map of each
// peer's breakers (the peers have no registry).
func BenchmarkRegistryMemory(b *testing.B) {
	registry := func(b *testing.B, fill func(names []string) any) {
		b.ReportAllocs()
		names := breakerNames(registryBreakers)
		var mib float64
		for b.Loop() {
			mib = heapMiB(func() any { return fill(names) })
		}
		b.ReportMetric(mib, "MiB/100k")
	}
	b.Run("lib=riprap", func(b *testing.B) {
		registry(b, func(names []string) any { return riprapRegistry(b, names) })
	})
	b.Run("lib=gobreaker", func(b *testing.B) {
		registry(b, func(names []string) any {
			m := make(map[string]*gobreaker.CircuitBreaker[int], len(names))
			for _, n := range names {
				m[n] = gobreaker.NewCircuitBreaker[int](gobreaker.Settings{Name: n})
			}
			return m
		})
	})
	b.Run("lib=failsafe", func(b *testing.B) {
		registry(b, func(names []string) any {
			m := make(map[string]fscb.CircuitBreaker[int], len(names))
			for _, n := range names {
				m[n] = fscb.NewBuilder[int]().Build()
			}
			return m
		})
	})
}

func riprapRegistry(tb testing.TB, names []string) *breaker.Registry {
	var r breaker.Registry
	for _, n := range names {
		_, err := r.GetOrCreate(n, breaker.Config{})
		require.NoError(tb, err)
	}
	return &r
}

// breakerNames makes the names up front, so that the heap measured is the
// registry's, not the strings' it is handed.
func breakerNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("dependency-%06d", i)
	}
	return names
}

// heapMiB returns the live heap that the value build returns keeps.
func heapMiB(build func() any) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
}

// TestMemoryBounds checks issue 15's bounds on the live heap, the figure
// BenchmarkBreakerMemory reports, rather than on what New allocates (the
// breaker package's TestBytesPerBreaker checks that).
func TestMemoryBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100,000 breakers")
	}
	count := liveBytes(10_000, func() any { return newDefaultBreaker(t) })
	timed := liveBytes(10_000, func() any { return newTimeWindowBreaker(t) })
	names := breakerNames(registryBreakers)
	reg := heapMiB(func() any { return riprapRegistry(t, names) })
	t.Logf("live bytes per breaker: count window %.0f, time window %.0f; %d in a registry: %.1f MiB",
		count, timed, registryBreakers, reg)
	assert.LessOrEqual(t, count, float64(maxCountWindowBytes), "count window, bytes per breaker")
	assert.LessOrEqual(t, timed, float64(maxTimeWindowBytes), "time window, bytes per breaker")
	assert.LessOrEqual(t, reg, float64(maxRegistryMiB), "MiB for %d breakers in a registry", registryBreakers)
}
