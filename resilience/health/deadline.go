package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
)

// ErrProbeTimeout is matched (errors.Is) by the error recorded for a probe
// that failed after its timeout fired. That error also matches
// [context.DeadlineExceeded], and it is the probe context's
// [context.Cause].
var ErrProbeTimeout = errors.New("health: probe timed out")

type timeoutError struct {
	target  string
	timeout time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("health: probe of %q timed out after %s", e.target, e.timeout)
}

func (e *timeoutError) Unwrap() []error { return []error{ErrProbeTimeout, context.DeadlineExceeded} }

// probeContext derives a probe's context, ending at d from now with
// context.DeadlineExceeded and cause. On the real clock (no Config.Clock)
// it is the runtime's own deadline context; on an injected clock it is a
// clockContext, which looks the same to the probe and to every context the
// probe derives from it.
func (c *Checker) probeContext(ctx context.Context, d time.Duration, cause error) (context.Context, context.CancelFunc) {
	if c.cfg.Clock == nil {
		return context.WithTimeoutCause(ctx, d, cause)
	}
	return newClockContext(ctx, c.cfg.Clock, d, cause)
}

// clockContext is a deadline context driven by an injected clock.
//
// A context derived from it (context.WithCancel) must report
// DeadlineExceeded and the cause when the deadline fires, as it would under
// a runtime deadline. The standard library copies a parent's Err and Cause
// into its children only when the parent is not one of its own cancel
// contexts, so clockContext has its own done channel and Err, and looks
// up values, the cancel context that context.Cause reads included, in
// withCause: a child of parent that is cancelled with cause just before
// done closes.
type clockContext struct {
	parent    context.Context
	withCause context.Context
	setCause  context.CancelCauseFunc
	deadline  time.Time
	done      chan struct{}

	mu  sync.Mutex // protects err
	err error
}

func newClockContext(parent context.Context, clk clock.Clock, d time.Duration, cause error) (context.Context, context.CancelFunc) {
	withCause, setCause := context.WithCancelCause(parent)
	c := &clockContext{parent: parent, withCause: withCause, setCause: setCause,
		deadline: clk.Now().Add(d), done: make(chan struct{})}
	timer := clk.AfterFunc(d, func() {
		c.setCause(cause)
		c.end(context.DeadlineExceeded)
	})
	stopParent := context.AfterFunc(parent, func() { c.end(parent.Err()) })
	return c, func() {
		timer.Stop()
		stopParent()
		c.setCause(context.Canceled)
		c.end(context.Canceled)
	}
}

// end closes done with err, once.
func (c *clockContext) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
		close(c.done)
	}
}

// Deadline returns the deadline on the injected clock.
func (c *clockContext) Deadline() (time.Time, bool) { return c.deadline, true }

// Done is closed when the deadline fires, the parent ends, or the probe
// returns.
func (c *clockContext) Done() <-chan struct{} { return c.done }

// Err is DeadlineExceeded once the deadline fired.
func (c *clockContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Value looks key up in withCause, so that context.Cause finds the cause.
func (c *clockContext) Value(key any) any { return c.withCause.Value(key) }
