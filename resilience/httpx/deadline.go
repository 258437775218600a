package httpx

import (
	"sync"
	"time"

	"github.com/benbjohnson/clock"
)

// deadlineTimer ends a context of ours at its deadline. On the real clock
// the timers are pooled by their transport, since a timer and its
// function cost two allocations per request; a pooled timer stays in the
// synctest bubble of its transport.
//
// The timer of a request's context under Timeout also serves the
// deadline of its first attempt, when AttemptTimeout is on the real
// clock too: a request then costs one runtime timer, not two (a Reset, a
// Stop and two trips to the pool fewer). Such a shared timer is armed, as
// the request starts, for the earlier of Timeout and AttemptTimeout,
// since the first attempt starts straight after; when it fires it ends
// each context whose deadline has passed and re-arms for the one left.
// The first attempt's headers only take it off the timer, which is
// stopped once, when the request's context is released.
type deadlineTimer struct {
	timer *time.Timer
	pool  *sync.Pool

	mu      sync.Mutex // protects the fields below
	ctx     *ownCtx    // set before the timer is armed, read when it fires
	shared  bool       // it serves ctx's first attempt as well
	stopped bool       // Stop has been called: it re-arms no more
	first   *ownCtx    // shared: the first attempt's context, until its headers are in
	when    time.Time  // shared: when it is armed for
}

// fire ends the contexts whose deadlines have passed. A shared timer may
// fire early (a first attempt starts a little after the request it
// was armed for) or for a deadline no longer in force (the headers came
// in): it then re-arms for the next deadline.
func (dt *deadlineTimer) fire() {
	dt.mu.Lock()
	c := dt.ctx
	if !dt.shared {
		dt.mu.Unlock()
		c.expire()
		return
	}
	now := time.Now()
	first := dt.first
	if first != nil && !now.Before(first.deadline) {
		dt.first = nil
	} else {
		first = nil
	}
	due := !now.Before(c.deadline)
	if !due && !dt.stopped {
		dt.when = c.deadline
		if f := dt.first; f != nil && f.deadline.Before(dt.when) {
			dt.when = f.deadline
		}
		dt.timer.Reset(dt.when.Sub(now))
	}
	dt.mu.Unlock()
	// The ends run outside the lock, and touch dt no more: once it is
	// unlocked, a Stop may send it back to the pool.
	if first != nil {
		first.expire()
	}
	if due {
		c.expire()
	}
}

// Stop stops the timer and reports whether it had not fired. Only a timer
// stopped in time goes back to the pool: one that fired may still be
// running its function.
func (dt *deadlineTimer) Stop() bool {
	dt.mu.Lock()
	dt.stopped = true
	ok := dt.timer.Stop()
	if ok {
		dt.ctx, dt.first, dt.shared = nil, nil, false
	}
	dt.mu.Unlock()
	if ok {
		dt.pool.Put(dt)
	}
	return ok
}

// armTimer starts a timer expiring c after d, on clk (nil: the real
// clock, pooled).
func (t *Transport) armTimer(c *ownCtx, d time.Duration, clk clock.Clock) interface{ Stop() bool } {
	if clk != nil {
		return clk.AfterFunc(d, c.expire)
	}
	return t.pooledTimer(c, d, false, time.Time{})
}

// pooledTimer arms a timer of the pool for c after d; shared says whether
// it will serve c's first attempt too, armed for when.
func (t *Transport) pooledTimer(c *ownCtx, d time.Duration, shared bool, when time.Time) *deadlineTimer {
	dt, ok := t.timers.Get().(*deadlineTimer)
	if !ok {
		dt = &deadlineTimer{pool: &t.timers}
	}
	// No lock: the timer is nobody else's until it is armed.
	dt.ctx, dt.shared, dt.stopped, dt.first, dt.when = c, shared, false, nil, when
	if dt.timer != nil {
		dt.timer.Reset(d)
		return dt
	}
	// A new timer may fire before it is stored; fire takes mu first, so
	// holding it here makes fire find the timer.
	dt.mu.Lock()
	dt.timer = time.AfterFunc(d, dt.fire)
	dt.mu.Unlock()
	return dt
}

// armTimeout arms the timer of the request's context c under Timeout. When
// AttemptTimeout is on the real clock too, the timer is shared with the
// first attempt (see deadlineTimer), whose context is told so.
func (t *Transport) armTimeout(c, first *ownCtx, now time.Time) {
	if t.attemptTimeout <= 0 || t.clock != nil {
		c.timer = t.pooledTimer(c, t.timeout, false, time.Time{})
		return
	}
	d := min(t.attemptTimeout, t.timeout)
	dt := t.pooledTimer(c, d, true, now.Add(d))
	c.timer = dt
	first.timer = (*firstDeadline)(dt)
}

// firstDeadline is a shared deadlineTimer as its first attempt's context
// holds it: its Stop takes the attempt off the timer.
type firstDeadline deadlineTimer

// register puts a, the first attempt's context, with its deadline set, on
// the timer of the request's context own, and reports whether it did: a
// timer no longer own's (the request is over) cannot take it.
func (fd *firstDeadline) register(a, own *ownCtx) bool {
	dt := (*deadlineTimer)(fd)
	dt.mu.Lock()
	defer dt.mu.Unlock()
	if dt.ctx != own || !dt.shared || dt.stopped {
		return false
	}
	dt.first = a
	if a.deadline.Before(dt.when) { // it fired before the attempt started, and re-armed later
		dt.when = a.deadline
		dt.timer.Reset(time.Until(a.deadline))
	}
	return true
}

// unregister takes a, the first attempt's context, off the timer, and
// reports whether its deadline had not passed. A timer that serves
// another request by now (a stale pointer in a context of a request
// that is over) holds another context, or none: that is reported as
// passed, which only an attempt too late to matter can see.
func (fd *firstDeadline) unregister(a *ownCtx) bool {
	dt := (*deadlineTimer)(fd)
	dt.mu.Lock()
	defer dt.mu.Unlock()
	if dt.first != a {
		return false
	}
	dt.first = nil
	return true
}

// Stop does nothing: the first attempt is taken off the timer by
// unregister, with the headers, and the timer stopped with the request's
// context.
func (fd *firstDeadline) Stop() bool { return false }
