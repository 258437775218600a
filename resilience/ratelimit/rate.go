package ratelimit

import (
	"fmt"
	"time"
)

// Rate is how many events a limiter admits per unit of time, held as
// integers (n events per duration) so that no float enters the limiter.
// Build one with [Every], [PerSecond] or [Per], or use [Inf].
//
// The zero Rate is invalid: constructors refuse it, so a forgotten rate can
// never turn into "unlimited" by accident. Rates are comparable values and
// safe to copy.
type Rate struct {
	n   int64
	per time.Duration
	inf bool
}

// Inf is the unlimited rate: every request is admitted, burst is ignored.
// It has to be asked for by name.
var Inf = Rate{inf: true}

// Every returns the rate of one event per interval.
func Every(interval time.Duration) Rate { return Rate{n: 1, per: interval} }

// PerSecond returns the rate of n events per second.
func PerSecond(n int) Rate { return Rate{n: int64(n), per: time.Second} }

// Per returns the rate of n events per d (Per(100, time.Minute)).
func Per(n int, d time.Duration) Rate { return Rate{n: int64(n), per: d} }

// IsInf reports whether r is [Inf].
func (r Rate) IsInf() bool { return r.inf }

// Interval returns the emission interval the limiter uses for r: per/n
// rounded up to a whole nanosecond, so the limiter never admits more than
// asked (PerSecond(3) gives 333,333,334ns, slightly under 3/s). Rates above
// one event per nanosecond are therefore capped at 1e9/s. It returns 0 for
// Inf and for an invalid rate.
func (r Rate) Interval() time.Duration {
	if r.inf || r.validate() != nil {
		return 0
	}
	return time.Duration(ceilDiv(int64(r.per), r.n))
}

// String reads "10/1s", "1/100ms" or "Inf".
func (r Rate) String() string {
	if r.inf {
		return "Inf"
	}
	return fmt.Sprintf("%d/%v", r.n, r.per)
}

func (r Rate) validate() error {
	if r.inf {
		return nil
	}
	if r.n <= 0 || r.per <= 0 {
		return fmt.Errorf("ratelimit: Rate must be positive or ratelimit.Inf, got %v", r)
	}
	return nil
}

// validateLimits checks a rate with a burst, including that burst×interval
// stays under maxSpan, which keeps
// every sum in the hot path free of overflow.
func validateLimits(r Rate, burst int) error {
	if err := r.validate(); err != nil {
		return err
	}
	if burst < 1 {
		return fmt.Errorf("ratelimit: Burst must be at least 1, got %d", burst)
	}
	if r.inf {
		return nil
	}
	if iv := int64(r.Interval()); int64(burst) > maxSpan/iv {
		return fmt.Errorf("ratelimit: Burst × interval must not exceed %v, got %d × %v",
			time.Duration(maxSpan), burst, time.Duration(iv))
	}
	return nil
}

// maxSpan (about 36 years) bounds burst×interval, how far ahead a
// reservation may be scheduled, and the clock's distance from the limiter's
// epoch. With all three below 2^60, every sum the limiter forms stays below
// 2^62, so the hot path needs no overflow checks.
const maxSpan = 1 << 60

// ceilDiv returns ⌈a/b⌉ for a ≥ 0, b > 0 without forming a+b.
func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 {
		q++
	}
	return q
}
