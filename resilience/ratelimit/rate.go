package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is how many events a limiter admits per unit of time, held as
// integers (n events per duration) so that no float enters the limiter.
// Build one with [Every], [PerSecond] or [Per], parse one with [ParseRate],
// or use [Inf].
//
// The zero Rate is invalid: constructors refuse it, so a forgotten rate can
// never turn into "unlimited" by accident. Rates are comparable values and
// safe to copy. A Rate reads and marshals as text ("100/s", "1/250ms",
// "Inf"), so it appears as such in JSON snapshots and configuration files.
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
	if r.inf || !r.valid() {
		return 0
	}
	return time.Duration(ceilDiv(int64(r.per), r.n))
}

// units are the periods written as a bare unit: "100/s" rather than
// "100/1s". Microseconds are written "us", keeping the text ASCII.
var units = []struct {
	d    time.Duration
	name string
}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}, {time.Microsecond, "us"}, {time.Nanosecond, "ns"}}

// String reads "100/s", "10/m", "1/250ms", "3/1m30s" or "Inf": the count,
// a slash, and the period as a Go duration, its leading 1 dropped when the
// period is one unit. [ParseRate] reads it back.
func (r Rate) String() string {
	if r.inf {
		return "Inf"
	}
	per := strings.ReplaceAll(r.per.String(), "µ", "u")
	for _, u := range units {
		if r.per == u.d {
			per = u.name
		}
	}
	return strconv.FormatInt(r.n, 10) + "/" + per
}

// MarshalText returns r's [Rate.String] form.
func (r Rate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText sets r from the text [ParseRate] accepts.
func (r *Rate) UnmarshalText(text []byte) error {
	v, err := ParseRate(string(text))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// ParseRate reads a rate written as [Rate.String] writes it: "Inf" (in any
// case), or a positive count, a slash and a positive period, either a bare
// unit ("100/s", "5/m", "1/h", "20/ms") or a Go duration ("1/250ms",
// "3/1m30s"). It refuses the zero and negative rates that every
// constructor refuses.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "inf") {
		return Inf, nil
	}
	count, period, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("ratelimit: rate %q: want N/period (100/s, 1/250ms) or Inf", s)
	}
	count, period = strings.TrimSpace(count), strings.TrimSpace(period)
	n, err := strconv.ParseInt(count, 10, 64)
	if err != nil {
		return Rate{}, fmt.Errorf("ratelimit: rate %q: count %q is not an integer", s, count)
	}
	if period != "" && !strings.ContainsRune("0123456789.+-", rune(period[0])) {
		period = "1" + period // a bare unit
	}
	per, err := time.ParseDuration(period)
	if err != nil {
		return Rate{}, fmt.Errorf("ratelimit: rate %q: period %q is not a duration", s, period)
	}
	r := Rate{n: n, per: per}
	if !r.valid() {
		return Rate{}, fmt.Errorf("ratelimit: rate %q: count and period must be positive", s)
	}
	return r, nil
}

func (r Rate) valid() bool { return r.inf || (r.n > 0 && r.per > 0) }

// validateLimits checks a rate with a burst, including that burst×interval
// stays under maxSpan, which keeps every sum in the hot path free of
// overflow. A zero burst has already become 1.
func validateLimits(name string, r Rate, burst int) error {
	if !r.valid() {
		return configError(name, "Rate", "must be positive or ratelimit.Inf", r)
	}
	if burst < 1 {
		return configError(name, "Burst", "must not be negative", burst)
	}
	if r.inf {
		return nil
	}
	if iv := int64(r.Interval()); int64(burst) > maxSpan/iv {
		return configError(name, "Burst", fmt.Sprintf("must be at most %d at rate %v", maxSpan/iv, r), burst)
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
