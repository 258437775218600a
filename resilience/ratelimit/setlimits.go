package ratelimit

import (
	"fmt"
	"math/bits"

	"github.com/riprap-go/riprap/resilience"
)

// SetRate changes the sustained rate from now on. The tokens available are
// kept (rounded down to the nanosecond), so a change never hands out a burst
// that did not exist before it. Reservations already granted keep their
// times; the new rate applies from the last of them on. It emits
// [resilience.EventLimitChange]. An invalid rate is refused with a
// *[resilience.ConfigError] and changes nothing.
func (l *Limiter) SetRate(r Rate) error {
	return l.setLimits(func(g *gcra) (Rate, int) { return r, int(g.burst) })
}

// SetBurst changes the burst from now on; 0 means 1, as in [New]. Growing
// the burst does not add tokens (the bucket refills into the new room at the
// rate); shrinking it caps the tokens at the new burst. It emits
// [resilience.EventLimitChange].
func (l *Limiter) SetBurst(burst int) error {
	if burst == 0 {
		burst = 1
	}
	return l.setLimits(func(g *gcra) (Rate, int) { return g.rate, burst })
}

// setLimits retires the current generation and publishes the next one. The
// three steps run under mu: freeze the old TAT with a CAS (so concurrent
// admissions either land before the freeze and are carried over, or fail
// and wait for mu), compute the new TAT from the frozen value, publish.
func (l *Limiter) setLimits(next func(*gcra) (Rate, int)) error {
	l.mu.Lock()
	old := l.cur.Load()
	r, burst := next(old)
	if err := validateLimits(l.name, r, burst); err != nil {
		l.mu.Unlock()
		return err
	}
	t := l.clk.Now()
	now := l.tb.at(t)
	var tat int64
	for {
		tat = old.tat.Load()
		if old.tat.CompareAndSwap(tat, frozen) {
			break
		}
	}
	g := newGCRA(r, burst, 0)
	g.tat.Store(carryTAT(old, g, tat, now))
	l.cur.Store(g)
	if l.events.Wants(resilience.EventLimitChange) {
		l.events.Enqueue(resilience.Event{
			Kind: resilience.EventLimitChange, Policy: policyName, Name: l.name, Time: t,
			Reason: fmt.Sprintf("rate %v -> %v, burst %d -> %d", old.rate, r, old.burst, burst),
			Detail: l.snapshotOf(g, now),
		})
	}
	l.mu.Unlock()
	l.events.Flush()
	return nil
}

// carryTAT translates the TAT of generation old into generation g.
//
// Without reservations waiting ahead, the tokens available now become
// min(tokens before, new burst), exactly up to rounding: in nanoseconds of
// the new interval the debt (TAT − now) becomes
// debt×newInterval/oldInterval + (newBurst − oldBurst)×newInterval, at least
// 0, rounded up so that rounding can only take tokens away.
//
// With reservations waiting ahead (TAT − burst×interval > now is the act
// time of the latest one, when the bucket will be empty), those keep their
// times and the new limits start from an empty bucket at that instant: the
// new TAT is lastAct + newBurst×newInterval. Scaling the debt instead would
// let a faster rate schedule new events before the old ones, bunching them.
//
// The terms are ordered so that no product can overflow, and the result is
// at most now + 2×maxSpan. Inf has no debt either way.
func carryTAT(old, g *gcra, tat, now int64) int64 {
	if old.interval == 0 || g.interval == 0 {
		return now
	}
	if lastAct := tat - old.tau; lastAct > now {
		return min(lastAct+g.tau, now+2*maxSpan)
	}
	return now + tokenDebt(old, g, max(tat-now, 0))
}

// tokenDebt converts debt from old's units to g's, keeping the tokens.
func tokenDebt(old, g *gcra, debt int64) int64 {
	scaled := scaleUp(debt, g.interval, old.interval) // ≤ 2×maxSpan
	if shrink := old.burst - g.burst; shrink >= 0 {
		if shrink > scaled/g.interval {
			return 0
		}
		return scaled - shrink*g.interval
	}
	// (new − old burst)×newInterval ≤ newBurst×newInterval ≤ maxSpan.
	return scaled + (g.burst-old.burst)*g.interval
}

// scaleUp returns ⌈a×num/den⌉ for non-negative a, num and positive den,
// saturating at 2×maxSpan (a debt of reservations more than 73 years ahead,
// which is the only case that can reach it).
func scaleUp(a, num, den int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(num))
	if hi >= uint64(den) {
		return 2 * maxSpan
	}
	q, rem := bits.Div64(hi, lo, uint64(den))
	if rem != 0 {
		q++
	}
	return int64(min(q, 2*maxSpan))
}
