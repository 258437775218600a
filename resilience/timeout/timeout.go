package timeout

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience"
)

// ErrTimeout is matched (errors.Is) by the error a call returns when the
// policy's own deadline fired. That error also matches
// [context.DeadlineExceeded].
var ErrTimeout = errors.New("timeout: deadline exceeded")

// Mode selects how the policy waits for the function.
type Mode uint8

const (
	// Cooperative runs the function on the caller's goroutine with a
	// deadline in its context and returns when the function does.
	Cooperative Mode = iota
	// Abandon runs the function on a new goroutine and returns when the
	// deadline fires even if the function has not. The function keeps
	// running until it returns by itself; its result is then discarded, and
	// a panic it raises is reported to the listeners as an
	// [resilience.EventPanic]. The goroutine never blocks on a send, so it
	// ends as soon as the function does.
	Abandon
)

// Config configures a timeout policy.
type Config struct {
	// Timeout bounds one call. It must be positive.
	Timeout time.Duration
	// Name identifies the policy in errors and events (optional).
	Name string
	// Mode is Cooperative by default.
	Mode Mode
	// Clock supplies time; nil means the real clock.
	Clock clock.Clock
	// Listeners receive an [resilience.EventTimeout] each time the policy's
	// deadline fires, and EventPanic for panics in abandoned calls.
	Listeners resilience.Listeners
}

// Error is returned when the policy's own deadline fired. It matches
// [ErrTimeout] and [context.DeadlineExceeded] with errors.Is, and unwraps to
// the error the function returned, if any.
type Error struct {
	Name    string
	Timeout time.Duration
	Err     error // what the function returned, or nil when abandoned
}

// Error says which deadline fired.
func (e *Error) Error() string {
	s := fmt.Sprintf("timeout: deadline of %s exceeded", e.Timeout)
	if e.Name != "" {
		s = fmt.Sprintf("timeout: %q deadline of %s exceeded", e.Name, e.Timeout)
	}
	return s
}

// Unwrap returns ErrTimeout, context.DeadlineExceeded and the function's
// error.
func (e *Error) Unwrap() []error {
	errs := []error{ErrTimeout, context.DeadlineExceeded}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// New returns a cooperative timeout of d on the real clock. It is
// [NewWithConfig] with only Timeout set.
func New[T any](d time.Duration) (resilience.Policy[T], error) {
	return NewWithConfig[T](Config{Timeout: d})
}

// NewWithConfig returns a timeout policy, or an error naming the bad field.
// The policy is safe for concurrent use.
func NewWithConfig[T any](cfg Config) (resilience.Policy[T], error) {
	if cfg.Timeout <= 0 {
		return nil, fmt.Errorf("timeout: Timeout must be positive, got %s", cfg.Timeout)
	}
	if cfg.Mode > Abandon {
		return nil, fmt.Errorf("timeout: unknown Mode %d", cfg.Mode)
	}
	p := &policy[T]{cfg: cfg, events: resilience.NewDispatcher(cfg.Listeners),
		cause: &Error{Name: cfg.Name, Timeout: cfg.Timeout}}
	if cfg.Clock == nil {
		p.cfg.Clock = clock.New()
		p.realClock = true
	}
	return p, nil
}

type policy[T any] struct {
	cfg       Config
	realClock bool
	events    *resilience.Dispatcher
	cause     *Error // the context's cause when the deadline fires; immutable, shared by all calls
}

func (p *policy[T]) Wrap(next resilience.Func[T]) resilience.Func[T] {
	if next == nil {
		return resilience.Pipeline[T]{}.Wrap(nil)
	}
	if p.cfg.Mode == Abandon {
		return func(ctx context.Context) (T, error) { return p.abandon(ctx, next) }
	}
	return func(ctx context.Context) (T, error) { return p.cooperate(ctx, next) }
}

func (p *policy[T]) cooperate(ctx context.Context, next resilience.Func[T]) (T, error) {
	tctx, cancel, mine := p.deadline(ctx)
	if !mine {
		return next(ctx)
	}
	defer cancel()
	v, err := next(tctx)
	if err != nil && ctx.Err() == nil && p.ownDeadline(tctx) {
		return v, p.fired(err)
	}
	return v, err
}

// ownDeadline reports whether tctx ended because the policy's deadline
// fired — not because the caller gave up, nor because the call was
// released after finishing.
func (p *policy[T]) ownDeadline(tctx context.Context) bool {
	return tctx.Err() != nil && context.Cause(tctx) == error(p.cause)
}

type result[T any] struct {
	v   T
	err error
	pan *resilience.PanicError
}

// States of an abandon-mode call, for the handshake between the caller and
// the goroutine running the function: whichever moves the state away from
// running first decides who owns the result.
const (
	running int32 = iota
	finished
	abandoned
)

func (p *policy[T]) abandon(ctx context.Context, next resilience.Func[T]) (T, error) {
	tctx, cancel, mine := p.deadline(ctx)
	if !mine {
		// The caller's deadline is the earlier one; it still bounds the wait.
		tctx, cancel = context.WithCancel(ctx)
	}
	done := make(chan result[T], 1) // buffered: the goroutine never blocks
	var state atomic.Int32
	go p.run(tctx, cancel, next, done, &state)
	select {
	case r := <-done:
		return p.settle(ctx, tctx, mine, r)
	case <-tctx.Done():
	}
	if !state.CompareAndSwap(running, abandoned) {
		// The function finished while the deadline fired: use its result.
		return p.settle(ctx, tctx, mine, <-done)
	}
	var zero T
	if ctx.Err() != nil {
		return zero, ctx.Err()
	}
	return zero, p.fired(nil)
}

// run calls next on its own goroutine. If the caller has abandoned the call
// by the time it returns, a panic is reported to the listeners, since no
// caller is left to receive it.
func (p *policy[T]) run(ctx context.Context, cancel context.CancelFunc, next resilience.Func[T], done chan<- result[T], state *atomic.Int32) {
	var r result[T]
	defer func() {
		if v := recover(); v != nil {
			r.pan = resilience.NewPanicError(v)
		}
		// Send and claim before cancelling: cancelling first would let the
		// caller mistake a finished call for a timeout.
		done <- r
		claimed := state.CompareAndSwap(running, finished)
		cancel()
		if !claimed && r.pan != nil {
			p.events.Emit(resilience.Event{Kind: resilience.EventPanic, Policy: "timeout", Name: p.cfg.Name,
				Time: p.cfg.Clock.Now(), Err: r.pan})
		}
	}()
	r.v, r.err = next(ctx)
}

func (p *policy[T]) settle(ctx, tctx context.Context, mine bool, r result[T]) (T, error) {
	if r.pan != nil {
		panic(r.pan)
	}
	if r.err != nil && mine && ctx.Err() == nil && p.ownDeadline(tctx) {
		return r.v, p.fired(r.err)
	}
	return r.v, r.err
}

func (p *policy[T]) fired(err error) error {
	e := &Error{Name: p.cfg.Name, Timeout: p.cfg.Timeout, Err: err}
	if p.events.Active() {
		p.events.Emit(resilience.Event{Kind: resilience.EventTimeout, Policy: "timeout", Name: p.cfg.Name,
			Time: p.cfg.Clock.Now(), Delay: p.cfg.Timeout, Err: e})
	}
	return e
}
