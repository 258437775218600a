package breaker

import (
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// Every add is counted once: in the sum seal returns, or by the caller
// when add reports false. Goroutines add while another seals, with and
// without cells, with cells installed before or during the run.
func TestAdderCountsEveryAddOnceAcrossASeal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var a adder
		if rapid.Bool().Draw(t, "spreadFirst") {
			a.spreadNow()
		}
		goroutines := rapid.IntRange(1, 8).Draw(t, "goroutines")
		each := rapid.IntRange(0, 300).Draw(t, "addsEach")
		sealAfter := rapid.IntRange(0, goroutines*each).Draw(t, "sealAfter")
		var started, refused atomic.Int64
		var sum uint64
		var wg sync.WaitGroup
		wg.Go(func() {
			for started.Load() < int64(sealAfter) {
			}
			sum, _ = a.seal()
		})
		for range goroutines {
			wg.Go(func() {
				for range each {
					started.Add(1)
					if !a.add() {
						refused.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if total := sum + uint64(refused.Load()); total != uint64(goroutines*each) {
			t.Fatalf("sealed sum %d + refused %d = %d, want %d adds", sum, refused.Load(), total, goroutines*each)
		}
		if a.add() {
			t.Fatal("an add after the seal was counted")
		}
	})
}

func TestAdderSpreadsOnlyOnACollision(t *testing.T) {
	var a adder
	for range 1000 {
		require.True(t, a.add())
	}
	assert.Nil(t, a.cells.Load(), "serial adds never collide")
	assert.Equal(t, uint64(1000), a.sum())

	a.spreadNow()
	for range 1000 {
		require.True(t, a.add())
	}
	assert.Equal(t, uint64(2000), a.sum())
	// An add that loaded the cells just before the seal lands on a sealed
	// cell: it must report false, or it would be counted nowhere.
	loaded := a.cells.Load()
	n, hot := a.seal()
	assert.Equal(t, uint64(2000), n)
	assert.True(t, hot)
	assert.False(t, loaded.add(), "an add on a cell sealed under it")
	assert.False(t, a.add())
}

func TestAdderCellsAreAPowerOfTwoOnTheirOwnLines(t *testing.T) {
	cs := *newCells()
	require.GreaterOrEqual(t, len(cs), 8)
	assert.Zero(t, len(cs)&(len(cs)-1), "a power of two: stripe masks with n-1")
	assert.LessOrEqual(t, len(cs), 256)
	for range 100 {
		i := stripe(len(cs))
		require.True(t, i >= 0 && i < len(cs))
	}
	var c cell
	assert.Equal(t, cacheLine, int(unsafe.Sizeof(c)))
}
