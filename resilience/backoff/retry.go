package backoff

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
)

// Defaults of [RetryConfig].
const (
	DefaultMaxAttempts   = 3
	DefaultMaxRetryAfter = 10 * time.Second
)

// Unlimited, as MaxAttempts, lets MaxDuration, the caller's deadline or a
// budget alone end the retries.
const Unlimited = math.MaxInt

// defaultStrategy is the schedule of a RetryConfig without a Strategy:
// 100ms doubling to 30s, full jitter. It is immutable, so every Retry
// shares it.
var defaultStrategy Strategy = func() Strategy {
	s, err := NewExponential(ExponentialConfig{Jitter: FullJitter})
	if err != nil {
		panic(err) // unreachable: the defaults are valid
	}
	return s
}()

// errNilRetry is what a nil *Retry in a pipeline returns: a programmer
// error reported on the call, never a panic.
var errNilRetry = errors.New("backoff: nil *Retry")

// RetryConfig configures [NewRetry]. Its zero value means three attempts,
// exponential backoff with full jitter from 100ms, Retry-After hints
// honoured up to 10s, no duration limit and no budget.
type RetryConfig struct {
	// Name identifies the retry in events, errors and its snapshot.
	Name string
	// MaxAttempts bounds how often the call runs, the first one included:
	// 1 never retries. Zero means DefaultMaxAttempts.
	MaxAttempts int
	// MaxDuration bounds the time from the start of the call to the end of
	// the last wait: a wait that would end later is not started. Zero
	// means no bound other than the caller's context. Setting it costs a
	// clock read before the first attempt.
	MaxDuration time.Duration
	// Strategy gives the wait before each retry; attempt 1 is the wait
	// after the first failure. Nil means NewExponential with FullJitter and
	// otherwise default settings.
	Strategy Strategy
	// MaxRetryAfter caps the Retry-After hint of a failure
	// ([resilience.RetryAfter]): the wait is the longer of the strategy's
	// delay and the capped hint. A rejection whose hint exceeds it is not
	// retried. Zero means DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
	// RetryIf decides whether an error deserves another attempt, so that a
	// declined payment is not retried. err is what the rest of the
	// pipeline returned: a result that the pipeline's classifier judged a
	// failure (an HTTP 503 response) arrives as a [*resilience.Judged]
	// with Outcome Failure, an error it judged a success as a *Judged with
	// Outcome Success. Nil retries every error but those judged a
	// success. Whatever it says, the retry never runs again after the
	// caller's context is done, nor on a [Permanent] error, nor on a
	// rejection without a Retry-After hint that fits.
	RetryIf func(ctx context.Context, err error) bool
	// Budget, when set, is asked before every retry and counts every
	// call; it can be shared by retries of any result type.
	Budget *Budget
	// Admit, when set, is asked before each wait whether the guards inside
	// the retry would let the next attempt through — a look that takes
	// nothing from them, such as a breaker's state. Without it, a retry
	// learns that an inner breaker opened only when its next attempt is
	// refused, after the wait. A nil answer retries as usual. A rejection
	// whose Retry-After hint is within MaxRetryAfter lengthens the wait to
	// the hint (the attempt after it is then the breaker's probe), still
	// subject to MaxDuration and the deadline. Any other error ends the
	// retries at once: the [*RetryError] keeps the last attempt's error
	// and its Stop matches [ErrRefusedAhead], not the rejection, because
	// an earlier attempt may have reached the dependency.
	Admit func(ctx context.Context) error
	// Listeners receive an [resilience.EventRetry] before each wait, on the
	// caller's goroutine. Listeners of other kinds cost a call nothing.
	Listeners resilience.Listeners
	// Clock times the waits and MaxDuration. Nil means the real clock. The
	// caller's context deadline is always compared with the real clock
	// (package time), by which the context itself expires.
	Clock clock.Clock
}

// Retry is a [resilience.Guard] that runs the rest of the pipeline again
// while its error is retryable (see [RetryConfig.RetryIf]), attempts
// remain, and the next wait ends before both MaxDuration and the caller's
// deadline. A cancelled context ends a wait at once. When it gives up on
// an error it returns a [*RetryError] wrapping the last one. A panic is
// not retried: it reaches the caller unchanged.
//
// A Retry is safe for concurrent use and serves pipelines of every result
// type. A successful first attempt costs no allocation and, without
// MaxDuration or Budget, no clock read. The zero Retry retries with the
// defaults of the zero [RetryConfig]; it must not be copied after first
// use. A nil *Retry's calls fail with an error.
type Retry struct {
	name          string
	maxAttempts   int
	maxDuration   time.Duration
	maxRetryAfter time.Duration
	strategy      Strategy
	retryIf       func(context.Context, error) bool
	admit         func(context.Context) error
	budget        *Budget
	events        *resilience.Dispatcher
	clock         clock.Clock // nil: the real clock

	// Counters for Snapshot. retries and exhausted are touched only on the
	// failure path; calls counts every call's end by kind (see callKind),
	// one atomic add per call, so that metrics never need per-call events.
	retries   atomic.Uint64
	exhausted atomic.Uint64
	calls     [4]atomic.Uint64
}

// The kinds of call a retry counts, after resilience4j's names.
const (
	succeededFirst = iota // successful without retry
	succeededLater        // successful with retry
	failedFirst           // failed without retry
	failedLater           // failed with retry
)

// NewRetry returns a retry configured by cfg, or a [*resilience.ConfigError]
// naming the field it refuses: a negative MaxAttempts, MaxDuration or
// MaxRetryAfter.
func NewRetry(cfg RetryConfig) (*Retry, error) {
	switch {
	case cfg.MaxAttempts < 0:
		return nil, configError(cfg.Name, "MaxAttempts", "must not be negative", cfg.MaxAttempts)
	case cfg.MaxDuration < 0:
		return nil, configError(cfg.Name, "MaxDuration", "must not be negative", cfg.MaxDuration)
	case cfg.MaxRetryAfter < 0:
		return nil, configError(cfg.Name, "MaxRetryAfter", "must not be negative", cfg.MaxRetryAfter)
	}
	return &Retry{
		name: cfg.Name, maxAttempts: cfg.MaxAttempts, maxDuration: cfg.MaxDuration,
		maxRetryAfter: cfg.MaxRetryAfter, strategy: cfg.Strategy, retryIf: cfg.RetryIf, admit: cfg.Admit,
		budget: cfg.Budget, events: resilience.NewDispatcher(cfg.Listeners), clock: cfg.Clock,
	}, nil
}

// Guard runs the rest of the pipeline, and again while the retry allows.
func (r *Retry) Guard(ctx context.Context, next resilience.Next) error {
	if r == nil {
		return errNilRetry
	}
	var start time.Time
	if r.maxDuration > 0 {
		start = r.now()
	}
	if r.budget != nil {
		r.budget.Request()
	}
	err := next.Run(ctx)
	if err == nil {
		r.calls[succeededFirst].Add(1)
		return nil
	}
	return r.loop(ctx, next, err, start)
}

// loop decides after each attempt whether to wait and run again; err is
// the error of the attempt numbered attempt.
func (r *Retry) loop(ctx context.Context, next resilience.Next, err error, start time.Time) error {
	var prev time.Duration
	for attempt := 1; ; attempt++ {
		if !r.retryable(ctx, err) {
			return r.giveUp(ctx, attempt, err, nil)
		}
		if cerr := ctx.Err(); cerr != nil {
			return r.giveUp(ctx, attempt, err, cerr)
		}
		if attempt >= r.attempts() {
			return r.giveUp(ctx, attempt, err, ErrMaxAttempts)
		}
		delay := r.schedule().Delay(attempt, prev)
		wait, ok := r.honourHint(delay, err)
		if !ok {
			return r.giveUp(ctx, attempt, err, nil)
		}
		var stop error
		if wait, stop = r.ahead(ctx, wait); stop != nil {
			return r.giveUp(ctx, attempt, err, stop)
		}
		if stop = r.fits(ctx, wait, start); stop != nil {
			return r.giveUp(ctx, attempt, err, stop)
		}
		if r.budget != nil && !r.budget.AllowRetry() {
			return r.giveUp(ctx, attempt, err, ErrBudgetExhausted)
		}
		r.retries.Add(1)
		if r.events.Wants(resilience.EventRetry) {
			r.events.Emit(resilience.Event{Kind: resilience.EventRetry, Policy: "retry", Name: r.name,
				Time: r.now(), Attempt: attempt + 1, Delay: wait, Err: err})
		}
		if cerr := r.wait(ctx, wait); cerr != nil {
			return r.giveUp(ctx, attempt, err, cerr)
		}
		prev = delay
		if err = next.Run(ctx); err == nil {
			r.calls[succeededLater].Add(1)
			return nil
		}
	}
}

// retryable applies RetryIf, or by default retries every error that is not
// a judged success. With the caller's cancellation ruled out next (loop
// stops once ctx is done), that default is "DefaultOutcome says Failure,
// or the error is a rejection"; honourHint then filters the rejections.
func (r *Retry) retryable(ctx context.Context, err error) bool {
	if IsPermanent(err) {
		return false
	}
	if r.retryIf != nil {
		return r.retryIf(ctx, err)
	}
	return resilience.DefaultOutcome(ctx, err) != resilience.Success
}

// giveUp builds the final error. An error the pipeline judged a success
// (an answer such as "not found") passes through as it is, so that the
// caller gets the original error back; every other one is wrapped.
func (r *Retry) giveUp(ctx context.Context, attempts int, err, stop error) error {
	kind := failedFirst
	if attempts > 1 {
		kind = failedLater
	}
	if stop == nil && resilience.DefaultOutcome(ctx, err) == resilience.Success {
		r.calls[kind-failedFirst].Add(1) // an answer: a success, retried or not
		return err
	}
	r.calls[kind].Add(1)
	if stop != nil && stop != ctx.Err() {
		r.exhausted.Add(1)
	}
	return &RetryError{Attempts: attempts, Err: err, Stop: stop}
}

func (r *Retry) attempts() int {
	if r.maxAttempts == 0 {
		return DefaultMaxAttempts
	}
	return r.maxAttempts
}

func (r *Retry) schedule() Strategy {
	if r.strategy == nil {
		return defaultStrategy
	}
	return r.strategy
}

func (r *Retry) now() time.Time {
	if r.clock == nil {
		return time.Now()
	}
	return r.clock.Now()
}
