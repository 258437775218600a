package ratelimit

import (
	"time"

	"github.com/benbjohnson/clock"
)

// timebase turns clock readings into int64 nanoseconds since an epoch, the
// unit of every limiter's state. Readings are clamped to ±maxSpan so that
// no later sum can overflow.
type timebase struct {
	clk   clock.Clock
	epoch time.Time
	// mono is set when the caller left the clock nil: then now reads the
	// monotonic clock alone (time.Since of a monotonic epoch skips the wall
	// clock), which is what makes Allow cheaper than a time.Now call.
	mono bool
}

func newTimebase(c clock.Clock) timebase {
	if c == nil {
		return timebase{clk: clock.New(), epoch: time.Now(), mono: true}
	}
	return timebase{clk: c, epoch: c.Now()}
}

func (tb *timebase) now() int64 {
	if tb.mono {
		return clampSpan(int64(time.Since(tb.epoch)))
	}
	return tb.at(tb.clk.Now())
}

func (tb *timebase) at(t time.Time) int64 { return clampSpan(int64(t.Sub(tb.epoch))) }

func clampSpan(ns int64) int64 { return min(max(ns, -maxSpan), maxSpan) }
