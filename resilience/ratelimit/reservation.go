package ratelimit

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// Reservation is a promise of n events at a time that may lie in the
// future. Get one from [Limiter.ReserveN]; the zero value is never OK and
// its methods do nothing.
// It is safe for concurrent use.
type Reservation struct {
	l           *Limiter
	g           *gcra
	ok          bool
	n           int
	at          time.Time // when the events may happen
	act         int64     // at, in the limiter's nanoseconds
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
	now := l.tb.at(t)
	d := l.take(now, int64(n), maxSpan)
	r.g, r.ok, r.base, r.after = d.g, d.ok, d.base, d.after
	r.at, r.act = t.Add(time.Duration(d.delay)), now+d.delay
	return r
}

// OK reports whether the reservation was granted.
func (r *Reservation) OK() bool { return r.ok }

// Delay is how long the holder must wait from the limiter clock's now
// before acting; zero when it may act now, and for a reservation that is
// not OK.
func (r *Reservation) Delay() time.Duration {
	if r.l == nil {
		return 0
	}
	return r.DelayFrom(r.l.clk.Now())
}

// DelayFrom is Delay measured from t.
func (r *Reservation) DelayFrom(t time.Time) time.Duration {
	if !r.ok {
		return 0
	}
	return max(r.at.Sub(t), 0)
}

// Cancel is CancelAt with the limiter clock's now.
func (r *Reservation) Cancel() bool {
	if r.l == nil {
		return false
	}
	return r.CancelAt(r.l.clk.Now())
}

// CancelAt gives the reservation's tokens back at time t, as though it had
// never been made, and reports whether it did. Two rules decide:
//
//   - Only before its time. A reservation cancelled after its act time
//     (t later than now + [Reservation.Delay] when it was made) gives
//     nothing back: its holder may already have acted, and returning the
//     tokens would let others act in the same window, over the limit.
//   - Only when nothing depends on it. Tokens come back only while this
//     reservation is still the most recent admission of the limiter (every
//     later one has been cancelled too) and the limits have not changed
//     since. Otherwise the later admissions were computed after this one
//     and cannot be moved.
//
// When Cancel gives nothing back the tokens return with time, as usual.
// Calling it again, or on a reservation that is not OK or made at rate Inf,
// does nothing.
func (r *Reservation) CancelAt(t time.Time) bool {
	if !r.ok || r.g == nil || r.g.interval == 0 || !r.done.CompareAndSwap(false, true) {
		return false
	}
	return giveBack(r.g, r.base, r.after, r.act, r.l.tb.at(t))
}

// giveBack returns the tokens of the admission that moved g's TAT from base
// to after, acting at act, if the time is not past act and no later
// admission depends on them.
//
// Restoring base rather than the exact old TAT is equivalent: when they
// differ, both are ≤ the admission's now, where max(TAT, now) erases the
// difference. TAT never returns to after once something later was admitted
// (TATs only grow, and cancels restore values ≥ the later admission's own
// base), so a successful CAS proves nothing depends on these tokens.
func giveBack(g *gcra, base, after, act, now int64) bool {
	return now <= act && g.tat.CompareAndSwap(after, base)
}

// Wait is WaitN(ctx, 1).
func (l *Limiter) Wait(ctx context.Context) error { return l.WaitN(ctx, 1) }

// WaitN blocks until n events may happen, and consumes them. It fails at
// once, without consuming anything, when n exceeds the burst
// ([ErrExceedsBurst]) or when the wait would end after ctx's deadline (a
// rejection matching [ErrLimited], with RetryAfter set to the wait needed).
// If ctx is done while waiting, the tokens are given back where
// [Reservation.CancelAt]'s rules allow and ctx's error is returned. The
// deadline is compared with the limiter's clock. A refusal counts in
// [Snapshot].Rejected.
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
	now := l.tb.at(t)
	d := l.take(now, int64(n), limit)
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
		giveBack(d.g, d.base, d.after, now+d.delay, l.tb.now())
		return ctx.Err()
	}
}

// reject counts a refusal and builds its error.
func (l *Limiter) reject(retryAfter time.Duration) error {
	l.rejected.Add(1)
	return resilience.Reject(policyName, l.name, ErrLimited, retryAfter)
}
