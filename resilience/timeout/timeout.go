package timeout

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
)

// policyName is the Component of configuration errors and the Policy of
// events.
const policyName = "timeout"

// Mode selects how a [Timeout] waits for the rest of the pipeline.
type Mode uint8

const (
	// Cooperative runs the call on the caller's goroutine with a deadline
	// in its context and returns when the call does. It leaves no
	// goroutine behind; a function that honours its context returns soon
	// after the deadline.
	Cooperative Mode = iota
	// Abandon runs the call on a new goroutine and returns when the
	// deadline fires even if the call has not. The call keeps running
	// until it returns by itself; its result is then discarded, and a
	// panic it raises is counted and reported to the listeners as an
	// [resilience.EventPanic]. The goroutine never blocks on a send, so it
	// ends as soon as the call does.
	Abandon
)

// String returns "cooperative" or "abandon".
func (m Mode) String() string {
	switch m {
	case Cooperative:
		return "cooperative"
	case Abandon:
		return "abandon"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// Config configures a [Timeout]. Only Timeout is required.
type Config struct {
	// Timeout bounds one call. It must be positive.
	Timeout time.Duration
	// Name identifies the timeout in errors, events and its snapshot.
	Name string
	// Mode is Cooperative unless set.
	Mode Mode
	// Clock supplies time; nil means the real clock, which takes the
	// standard library's context.WithDeadline path.
	Clock clock.Clock
	// Listeners receive an [resilience.EventTimeout] each time the
	// deadline fires and an [resilience.EventPanic] for a panic in an
	// abandoned call, on the goroutine where it happens. Listeners of
	// other kinds cost a call nothing.
	Listeners resilience.Listeners
}

// Timeout is a [resilience.Guard] that bounds how long the rest of a
// pipeline may take. It gives the call a context whose deadline is its
// own or the caller's, whichever comes first; when its own fires, the call
// ends with an [*Error], and every context the function derives reports
// [context.DeadlineExceeded] with that *Error as its [context.Cause], on
// the real clock and on an injected one. When the caller's deadline comes
// first, the timeout steps aside and the caller's error comes back
// unchanged.
//
// A Timeout is safe for concurrent use and serves pipelines of every
// result type. Build it with [New] or [After]; the zero value is not
// configured, and its calls fail with a [*resilience.ConfigError]. A nil
// *Timeout's calls fail too.
type Timeout struct {
	name    string
	timeout time.Duration
	mode    Mode
	clock   clock.Clock // nil: the real clock
	events  *resilience.Dispatcher
	cause   *Error // the deadline context's cause; immutable, shared by all calls
	invalid error  // set by After for a bad duration: every call returns it

	// Counters for Snapshot, touched only when a deadline fires or an
	// abandoned call ends, never on a call that finishes in time.
	timeouts  atomic.Uint64
	abandoned atomic.Int64 // abandoned calls still running
	panics    atomic.Uint64
}

// New returns a timeout configured by cfg, or a [*resilience.ConfigError]
// naming the field it refuses: a Timeout that is not positive, an unknown
// Mode.
func New(cfg Config) (*Timeout, error) {
	if cfg.Timeout <= 0 {
		return nil, configError(cfg.Name, "Timeout", "must be positive", cfg.Timeout)
	}
	if cfg.Mode > Abandon {
		return nil, configError(cfg.Name, "Mode", "must be Cooperative or Abandon", cfg.Mode)
	}
	return &Timeout{
		name: cfg.Name, timeout: cfg.Timeout, mode: cfg.Mode, clock: cfg.Clock,
		events: resilience.NewDispatcher(cfg.Listeners),
		cause:  &Error{Name: cfg.Name, Timeout: cfg.Timeout},
	}, nil
}

// After returns a cooperative timeout of d on the real clock, for the
// common case that needs no configuration. It returns no error so that it
// can be written inline in a pipeline: a d that is not positive, which is
// a programmer error, makes every call through the timeout fail with the
// [*resilience.ConfigError] that [New] would have returned, without running
// the call.
func After(d time.Duration) *Timeout {
	t, err := New(Config{Timeout: d})
	if err != nil {
		return &Timeout{timeout: d, invalid: err}
	}
	return t
}

func configError(name, field, rule string, value any) error {
	return &resilience.ConfigError{Component: policyName, Name: name, Field: field, Rule: rule, Value: value}
}

// Guard runs the rest of the pipeline under the timeout's deadline.
func (t *Timeout) Guard(ctx context.Context, next resilience.Next) error {
	switch {
	case t == nil:
		return errNilTimeout
	case t.invalid != nil:
		return t.invalid
	case t.timeout <= 0:
		return configError(t.name, "Timeout", "must be positive", t.timeout)
	case t.mode == Abandon:
		return t.abandon(ctx, next)
	}
	return t.cooperate(ctx, next)
}

func (t *Timeout) cooperate(ctx context.Context, next resilience.Next) error {
	tctx, release, mine := t.deadline(ctx)
	if !mine {
		return next.Run(ctx)
	}
	defer release()
	err := next.Run(tctx)
	if err != nil && ctx.Err() == nil && t.ownDeadline(tctx) {
		return t.fired(err)
	}
	return err
}

// ownDeadline reports whether tctx ended because the timeout's deadline
// fired: not because the caller gave up, nor because the call was
// released after finishing.
func (t *Timeout) ownDeadline(tctx context.Context) bool {
	return tctx.Err() != nil && context.Cause(tctx) == error(t.cause)
}

// fired counts a deadline that fired and builds the call's error.
func (t *Timeout) fired(err error) error {
	t.timeouts.Add(1)
	e := &Error{Name: t.name, Timeout: t.timeout, Err: err}
	if t.events.Wants(resilience.EventTimeout) {
		t.events.Emit(resilience.Event{Kind: resilience.EventTimeout, Policy: policyName, Name: t.name,
			Time: t.now(), Delay: t.timeout, Err: e})
	}
	return e
}

func (t *Timeout) now() time.Time {
	if t.clock == nil {
		return time.Now()
	}
	return t.clock.Now()
}
