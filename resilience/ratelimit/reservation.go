package ratelimit

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// Reservation is a promise of n events at a time that may lie in the
// future. Get one from [Limiter.ReserveN]; the zero value is not usable.
// It is safe for concurrent use.
type Reservation struct {
	l           *Limiter
	g           *gcra
	ok          bool
	n           int
	at          time.Time // when the events may happen
	base, after int64
	done        atomic.Bool // Cancel ran (successfully or not)
}

// Reserve is ReserveN(1).
func (l *Limiter) Reserve() *Reservation { return l.ReserveNAt(l.clk.Now(), 1) }

// ReserveN reserves n events now; see [Limiter.ReserveNAt].
func (l *Limiter) ReserveN(n int) *Reservation { return l.ReserveNAt(l.clk.Now(), n) }

// ReserveNAt reserves n events at time t. The reservation is granted at
// once, possibly for a later time: the caller must wait [Reservation.Delay]
// before acting, or Cancel. It is not OK when n exceeds the burst or the
// wait would exceed about 36 years; n ≤ 0 gives an OK reservation with no
// delay.
func (l *Limiter) ReserveNAt(t time.Time, n int) *Reservation {
	r := &Reservation{l: l, n: n, at: t}
	if n <= 0 {
		r.ok = true
		return r
	}
	d := l.take(l.tb.at(t), int64(n), maxSpan)
	r.g, r.ok, r.base, r.after = d.g, d.ok, d.base, d.after
	r.at = t.Add(time.Duration(d.delay))
	return r
}

// OK reports whether the reservation was granted.
func (r *Reservation) OK() bool { return r.ok }

// Delay is how long the holder must wait from the limiter clock's now
// before acting; zero when it may act now, and for a reservation that is
// not OK.
func (r *Reservation) Delay() time.Duration { return r.DelayFrom(r.l.clk.Now()) }

// DelayFrom is Delay measured from t.
func (r *Reservation) DelayFrom(t time.Time) time.Duration {
	if !r.ok {
		return 0
	}
	return max(r.at.Sub(t), 0)
}

// Cancel gives the reservation's tokens back, as though it had never been
// made, and reports whether it did. The rule: tokens come back only when no
// later admission depends on them, that is when this reservation is still
// the most recent admission of the limiter (every later one has been
// cancelled too) and the limits have not changed since. Otherwise the later
// admissions were computed after this one and cannot be moved, so Cancel
// does nothing; the tokens then return with time, as usual. Calling Cancel
// again, or on a reservation that is not OK or made at rate Inf, does
// nothing.
func (r *Reservation) Cancel() bool {
	if !r.ok || r.g == nil || r.g.interval == 0 || !r.done.CompareAndSwap(false, true) {
		return false
	}
	// Restoring base rather than the exact old TAT is equivalent: when they
	// differ, both are ≤ the reservation's now, where max(TAT, now) erases
	// the difference. TAT never returns to after once something later was
	// admitted (TATs only grow, and cancels restore values ≥ the later
	// admission's own base), so a successful CAS proves nothing depends on
	// these tokens.
	return r.g.tat.CompareAndSwap(r.after, r.base)
}

// Wait is WaitN(ctx, 1).
func (l *Limiter) Wait(ctx context.Context) error { return l.WaitN(ctx, 1) }

// WaitN blocks until n events may happen, and consumes them. It fails at
// once, without consuming anything, when n exceeds the burst
// ([ErrExceedsBurst]) or when the wait would end after ctx's deadline (a
// rejection matching [ErrLimited], with RetryAfter set to the wait needed).
// If ctx is done while waiting, the tokens are given back where
// [Reservation.Cancel]'s rule allows and ctx's error is returned. The
// deadline is compared with the limiter's clock.
func (l *Limiter) WaitN(ctx context.Context, n int) error {
	return l.waitN(ctx, n, maxSpan)
}

// waitN waits for at most maxWait; a longer wait is refused as a rejection.
func (l *Limiter) waitN(ctx context.Context, n int, maxWait time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if n <= 0 {
		return nil
	}
	t := l.clk.Now()
	// Never wait longer than maxSpan: beyond it, a queue of waiters could
	// push the schedule past the int64 range (into the frozen marker).
	limit, byDeadline := min(int64(maxWait), maxSpan), false
	// The wait must end strictly before the deadline: a timer and a
	// deadline due at the same instant would race.
	if dl, ok := ctx.Deadline(); ok && int64(dl.Sub(t))-1 < limit {
		limit, byDeadline = max(int64(dl.Sub(t))-1, 0), true
	}
	d := l.take(l.tb.at(t), int64(n), limit)
	switch {
	case d.tooBig:
		return fmt.Errorf("%w: WaitN(n=%d) with burst %d", ErrExceedsBurst, n, d.g.burst)
	case !d.ok && byDeadline:
		return fmt.Errorf("ratelimit: WaitN(n=%d) would have to wait %v, past the context deadline: %w",
			n, time.Duration(d.delay), l.reject(time.Duration(d.delay)))
	case !d.ok:
		return l.reject(time.Duration(d.delay))
	case d.delay == 0:
		return nil
	}
	timer := l.clk.Timer(time.Duration(d.delay))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		d.g.tat.CompareAndSwap(d.after, d.base) // Cancel's rule
		return ctx.Err()
	}
}

// reject builds the rejection error of this limiter.
func (l *Limiter) reject(retryAfter time.Duration) error {
	return resilience.Reject("ratelimit", l.name, ErrLimited, retryAfter)
}
