package breaker

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// adder counts the calls of one phase that take no lock: the successes of
// a closed, metrics-only or disabled phase, the rejections of an open,
// held, forced-open or half-open one.
//
// It starts as one word, so that an idle breaker costs 16 bytes for it.
// The first time two adds collide (a compare-and-swap fails), it spreads
// over cells, each on a cache line of its own, and from then on each
// goroutine adds to the cell its stack address picks: two cores counting
// the calls of one breaker no longer fight for one line, which is what
// makes the closed path scale. A count is the sum of the base and the
// cells.
//
// When the phase is retired, seal sets the sealed bit in the base and in
// every cell and keeps later cells from being installed; an add that finds
// the bit reports false and changes nothing, so its caller counts the call
// in the breaker's totals instead. Every add is thus counted exactly once:
// in the sum seal returns, or by the caller.
type adder struct {
	base  atomic.Uint64
	cells atomic.Pointer[cells]
}

// sealed is the bit seal sets in every word of an adder.
const sealed = uint64(1) << 63

// cell is one counter on a cache line of its own.
type cell struct {
	n atomic.Uint64
	_ [cacheLine - 8]byte
}

// cacheLine is the size of the cache line that cells must not share.
const cacheLine = 64

type cells []cell

// sealedCells marks an adder whose cells must not be installed any more.
var sealedCells = &cells{}

// add counts one call and reports whether it was counted; false means the
// adder was sealed. The common cases, an adder spread over cells and an
// uncontended one, are inlined into the caller.
func (a *adder) add() bool {
	if cs := a.cells.Load(); cs != nil {
		return cs.add()
	}
	if old := a.base.Load(); old&sealed == 0 && a.base.CompareAndSwap(old, old+1) {
		return true
	}
	return a.addSlow()
}

// addBase is add's common case, uncontended and unspread, small enough to
// be inlined into the hot paths: callers fall back on add when it fails.
func (a *adder) addBase() bool {
	old := a.base.Load()
	return old&sealed == 0 && a.cells.Load() == nil && a.base.CompareAndSwap(old, old+1)
}

// addSlow adds after a collision, spreading the adder over cells unless
// another goroutine did first or the adder was sealed meanwhile.
func (a *adder) addSlow() bool {
	if a.base.Load()&sealed != 0 {
		return false
	}
	cs := newCells()
	if !a.cells.CompareAndSwap(nil, cs) {
		cs = a.cells.Load()
	}
	return cs.add()
}

// newCells makes eight cells per P, rounded up to a power of two, so that
// two goroutines rarely pick the same one; at most 256 (16 KiB), made only
// for a breaker that is called from several cores at once.
func newCells() *cells {
	cs := make(cells, stripeCount())
	return &cs
}

// stripeCount is how many stripes a contended counter spreads over: eight
// per P, rounded up to a power of two, at most 256.
func stripeCount() int {
	n := 8
	for n < 8*runtime.GOMAXPROCS(0) && n < 256 {
		n *= 2
	}
	return n
}

func (cs *cells) add() bool {
	c := *cs
	// len is a power of two, or 0 for sealedCells, which nothing may add to.
	return len(c) != 0 && c[stripe(len(c))].n.Add(1)&sealed == 0
}

// stripe picks a cell for the calling goroutine from the address of a
// variable on its stack. Goroutines have stacks of their own, at least
// 2 KiB apart, so a goroutine keeps picking the same cell while two
// goroutines rarely pick the same one, and no per-goroutine state is kept.
// The address is only hashed, never turned back into a pointer.
func stripe(n int) int {
	var here byte
	h := uint64(uintptr(unsafe.Pointer(&here))>>11) * 0x9e3779b97f4a7c15
	return int(h>>32) & (n - 1)
}

// sum returns the count so far.
func (a *adder) sum() uint64 {
	n := a.base.Load() &^ sealed
	if cs := a.cells.Load(); cs != nil {
		for i := range *cs {
			n += (*cs)[i].n.Load() &^ sealed
		}
	}
	return n
}

// seal stops the adder and returns its final count, and whether it had
// spread over cells. b.mu must be held, so that an adder is sealed once.
func (a *adder) seal() (n uint64, hot bool) {
	n = a.base.Or(sealed) &^ sealed
	cs := a.cells.Swap(sealedCells)
	if cs == nil || cs == sealedCells {
		return n, false
	}
	for i := range *cs {
		n += (*cs)[i].n.Or(sealed) &^ sealed
	}
	return n, true
}

// spreadNow gives the adder its cells at once, for the next phase of a
// breaker whose calls already collided: they would at its first calls.
func (a *adder) spreadNow() { a.cells.Store(newCells()) }
