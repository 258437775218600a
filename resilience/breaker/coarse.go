package breaker

import (
	"sync"
	"sync/atomic"
	"time"
)

// epoch is time zero of every breaker on the real clock: breakers read
// time.Since(epoch), the monotonic clock only, about half the cost of
// time.Now, and share the coarse clock's time base.
var epoch = time.Now()

// CoarseResolution is how often the clock of [Config.CoarseClock] advances.
const CoarseResolution = time.Millisecond

// coarse is the clock shared by breakers made with Config.CoarseClock.
var coarse coarseClock

// coarseClock is a clock that a runtime timer advances every resolution
// while somebody reads it: a read is two loads instead of a clock read.
//
// The timer runs its function on a goroutine of its own only when it
// fires, and stops re-arming itself after a tick with no read, so an idle
// program pays nothing; the next read restarts it with a fresh time.
// Readers write nothing but the first read after a tick, which sets used.
type coarseClock struct {
	nanos atomic.Int64 // time.Since(epoch) at the last tick
	used  atomic.Bool  // read since the last tick

	running atomic.Bool // the timer is armed; written under mu
	mu      sync.Mutex  // protects timer and the writes of running
	timer   *time.Timer

	// since reads the time; time.Since(epoch) but in tests.
	since func() int64
	// every is the resolution; CoarseResolution but in tests.
	every time.Duration
}

func realSince() int64 { return int64(time.Since(epoch)) }

// now returns the time as of the last tick, at most one resolution old
// unless the timer fires late.
func (c *coarseClock) now() int64 {
	if !c.used.Load() {
		c.used.Store(true)
		if !c.running.Load() {
			c.start()
		}
	}
	return c.nanos.Load()
}

// start arms the timer with a fresh time, unless it is armed already.
func (c *coarseClock) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running.Load() {
		c.restart()
	}
}

// restart stores a fresh time and arms the timer. c.mu must be held.
func (c *coarseClock) restart() {
	if c.since == nil {
		c.since, c.every = realSince, CoarseResolution
	}
	c.nanos.Store(c.since())
	c.running.Store(true)
	// A new timer each start, never one from an earlier start: a timer
	// made in a synctest bubble must not be touched outside it.
	c.timer = time.AfterFunc(c.every, c.tick)
}

// tick advances the clock, and re-arms the timer if anybody read it since
// the last tick. A reader that set used after the Swap below either sees
// running false and starts the clock, or is seen by the Load after
// running is cleared: atomics are sequentially consistent, so one of the
// two happens, and a read never finds the clock stopped for good.
func (c *coarseClock) tick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nanos.Store(c.since())
	if c.used.Swap(false) {
		c.timer.Reset(c.every) // from the timer's own function: never outside its bubble
		return
	}
	c.running.Store(false)
	if c.used.Load() {
		c.restart()
	}
}
