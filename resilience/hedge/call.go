package hedge

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
)

// call is the state one call shares between the caller's goroutine (the
// first attempt), the timer that starts hedges and the hedges themselves.
type call struct {
	h     *Hedger
	timer *time.Timer  // real clock: made once, reused through the pool
	mock  *clock.Timer // injected clock: one per call
	wake  chan struct{}

	// Written by the caller before the timer is armed, read-only after.
	ctx   context.Context // the caller's
	first *firstCtx       // the first attempt's
	delay time.Duration
	// next is the caller's rest of the pipeline, forked for each hedge by
	// the timer's goroutine while the first attempt runs on it. Forking
	// only when a hedge starts keeps the fast path free of the fork's
	// allocation; it is safe because a fork copies what the call was built
	// with (the guards, the function, an outer call's fork), never the
	// result slot the first attempt writes. It is forked under mu and only
	// while the call is not closed, so never after Guard has returned (a
	// Guard must not keep its Next). Each launch arms the next, so launches
	// never overlap.
	next resilience.Next

	launched atomic.Int32 // hedges started; read by the caller without the lock

	mu       sync.Mutex // protects everything below
	closed   bool       // the call is decided: start nothing more, discard results
	running  int        // hedges started and not yet ended
	won      bool
	winner   resilience.Next // the hedge whose answer the call takes
	winErr   error
	panicked *resilience.PanicError
	cancels  []context.CancelFunc // of the hedges
}

// start readies a call and arms its timer.
func (h *Hedger) start(ctx context.Context, next resilience.Next, first *firstCtx) *call {
	c, _ := h.pool.Get().(*call)
	if c == nil {
		c = &call{h: h, wake: make(chan struct{}, 1)}
	}
	c.ctx, c.first, c.delay, c.next = ctx, first, h.delay(), next
	if c.timer != nil {
		c.timer.Reset(c.delay)
		return c
	}
	// A new timer may fire before it is stored; fire takes c.mu first, so
	// holding it here makes fire find the timer it re-arms.
	c.mu.Lock()
	if h.clock != nil {
		c.mock = h.clock.AfterFunc(c.delay, c.fire)
	} else {
		c.timer = time.AfterFunc(c.delay, c.fire)
	}
	c.mu.Unlock()
	return c
}

// stop stops the timer and reports whether it had not fired.
func (c *call) stop() bool {
	if c.mock != nil {
		return c.mock.Stop()
	}
	return c.timer.Stop()
}

func (c *call) arm() {
	if c.mock != nil {
		c.mock.Reset(c.delay)
	} else {
		c.timer.Reset(c.delay)
	}
}

// recycle keeps a call that started no hedge for the next one. Only calls
// on the real clock are kept: their timer is the expensive part.
func (h *Hedger) recycle(c *call) {
	if c.mock != nil {
		return
	}
	c.ctx, c.first, c.next = nil, nil, resilience.Next{}
	h.pool.Put(c)
}

// fire starts a hedge, on the timer's goroutine, unless the call is
// decided, the caller has left, or the budget refuses.
func (c *call) fire() {
	c.mu.Lock()
	decided := c.closed || c.won || c.panicked != nil
	c.mu.Unlock()
	if decided || c.ctx.Err() != nil {
		return
	}
	h := c.h
	if h.budget != nil && !h.budget.AllowRetry() {
		h.refused.Add(1)
		return
	}
	ctx, cancel := context.WithCancel(c.ctx)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		cancel()
		return
	}
	// Forked under the lock, before closed is set: the caller's Guard has
	// not returned, so its Next is still the caller's to lend.
	fork := c.next.Fork()
	n := c.launched.Add(1)
	c.running++
	c.cancels = append(c.cancels, cancel)
	if int(n) < h.maxHedges {
		c.arm()
	}
	c.mu.Unlock()
	h.hedges.Add(1)
	if h.disp.Wants(resilience.EventRetry) {
		h.disp.Emit(resilience.Event{Kind: resilience.EventRetry, Policy: policyName, Name: h.name,
			Time: h.now(), Attempt: int(n) + 1, Delay: c.delay, Reason: "hedge"})
	}
	c.run(ctx, fork)
}

// run makes one hedge and reports it. A panic, or runtime.Goexit, in the
// function or the classifier ends the hedge as a failure.
func (c *call) run(ctx context.Context, fork resilience.Next) {
	var err error
	o := resilience.Failure
	defer func() {
		var pe *resilience.PanicError
		if v := recover(); v != nil {
			pe = resilience.NewPanicError(v)
		}
		c.finish(fork, err, o, pe)
	}()
	err = fork.Run(ctx)
	o = c.h.classify(c.ctx, err)
}

// finish records a hedge's end: the first good answer or panic decides the
// call and cancels the first attempt; anything else just wakes the caller,
// who may be waiting for the last attempt. A panic that comes too late to
// decide the call has nobody to receive it, and goes to the listeners.
func (c *call) finish(fork resilience.Next, err error, o resilience.Outcome, pe *resilience.PanicError) {
	c.mu.Lock()
	c.running--
	late := c.closed
	decides := !late && !c.won && c.panicked == nil && (pe != nil || o == resilience.Success)
	if decides {
		if pe != nil {
			c.panicked = pe
		} else {
			c.won, c.winner, c.winErr = true, fork, err
		}
	}
	c.mu.Unlock()
	if decides {
		c.first.cancel()
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	if pe != nil && !decides && c.h.disp.Wants(resilience.EventPanic) {
		c.h.disp.Emit(resilience.Event{Kind: resilience.EventPanic, Policy: policyName, Name: c.h.name,
			Time: c.h.now(), Err: pe})
	}
}

// settle decides a call whose timer fired, once its first attempt has
// returned err: it waits, if need be, for a hedge still running, then
// returns the call's error and whether a hedge's answer was taken.
func (c *call) settle(err error, next resilience.Next) (error, bool) {
	good := c.h.classify(c.ctx, err) == resilience.Success
	c.mu.Lock()
	for !c.won && c.panicked == nil && !good && c.running > 0 && c.ctx.Err() == nil {
		c.mu.Unlock()
		select {
		case <-c.wake:
		case <-c.ctx.Done():
		}
		c.mu.Lock()
	}
	c.closed = true
	won, winner, winErr, pe := c.won, c.winner, c.winErr, c.panicked
	cancels := c.cancels
	c.cancels = nil
	c.mu.Unlock()
	c.stop()
	for _, cancel := range cancels {
		cancel()
	}
	if pe != nil {
		panic(pe)
	}
	if won {
		next.Adopt(winner)
		c.h.wins.Add(1)
		return winErr, true
	}
	return err, false
}

// abandon ends a call whose first attempt panicked.
func (c *call) abandon() {
	c.mu.Lock()
	c.closed = true
	cancels := c.cancels
	c.cancels = nil
	c.mu.Unlock()
	c.stop()
	for _, cancel := range cancels {
		cancel()
	}
}
