package timeout

import (
	"context"
	"time"
)

// deadline derives the call's context. mine is false when the caller's own
// deadline comes first: then no context is created and ctx is used as is.
func (p *policy[T]) deadline(ctx context.Context) (context.Context, context.CancelFunc, bool) {
	at := p.cfg.Clock.Now().Add(p.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && !d.After(at) {
		return ctx, nil, false
	}
	if p.realClock {
		tctx, cancel := context.WithDeadlineCause(ctx, at, p.cause)
		return tctx, cancel, true
	}
	return p.mockDeadline(ctx, at)
}

// mockDeadline builds a deadline context driven by an injected clock. The
// clock's own WithDeadline is not used: its context reads its error without
// a lock and starts a goroutine per context.
func (p *policy[T]) mockDeadline(ctx context.Context, at time.Time) (context.Context, context.CancelFunc, bool) {
	cctx, cancel := context.WithCancelCause(ctx)
	t := p.cfg.Clock.AfterFunc(p.cfg.Clock.Until(at), func() { cancel(p.cause) })
	stop := func() {
		t.Stop()
		cancel(context.Canceled)
	}
	return &clockCtx{Context: cctx, deadline: at, cause: p.cause}, stop, true
}

// clockCtx reports the injected deadline, and DeadlineExceeded rather than
// Canceled when that deadline is what ended it.
type clockCtx struct {
	context.Context
	deadline time.Time
	cause    error
}

func (c *clockCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *clockCtx) Err() error {
	err := c.Context.Err()
	if err != nil && context.Cause(c.Context) == c.cause {
		return context.DeadlineExceeded
	}
	return err
}
