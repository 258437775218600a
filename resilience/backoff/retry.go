package backoff

import (
	"context"
	"math"
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

// RetryConfig configures [NewRetry]. Its zero value means three attempts,
// exponential backoff with full jitter from 100ms, Retry-After hints
// honoured up to 10s, no duration limit and no budget.
type RetryConfig[T any] struct {
	// Name identifies the policy in events.
	Name string
	// MaxAttempts bounds how often the function runs, the first call
	// included: 1 never retries. Zero means DefaultMaxAttempts.
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
	// RetryIf decides whether a result and error deserve another attempt,
	// so a result without an error (an HTTP 503 response) can be retried
	// and an error (a declined payment) not. Nil retries every error.
	// Whatever it says, the policy never retries after the caller's
	// context is done, nor a [Permanent] error, nor a rejection without a
	// Retry-After hint that fits.
	RetryIf func(ctx context.Context, result T, err error) bool
	// Budget, when set, is asked before every retry and counts every
	// call; it can be shared by policies of any result type.
	Budget *Budget
	// Listeners receive an EventRetry before each wait.
	Listeners resilience.Listeners
	// Clock times the waits and MaxDuration. Nil means the real clock. The
	// caller's context deadline is always compared with the real clock
	// (package time), by which the context itself expires.
	Clock clock.Clock
}

// retry is the policy built by NewRetry. It is immutable after
// construction.
type retry[T any] struct {
	name          string
	maxAttempts   int
	maxDuration   time.Duration
	maxRetryAfter time.Duration
	strategy      Strategy
	retryIf       func(context.Context, T, error) bool
	budget        *Budget
	listeners     resilience.Listeners
	clock         clock.Clock
}

// NewRetry returns a policy that runs the function again while its
// outcome is retryable (see [RetryConfig.RetryIf]), attempts remain, and the
// next wait ends before both MaxDuration and the caller's deadline. A
// cancelled context ends a wait at once. When the policy gives up on an
// error it returns a [*RetryError] wrapping the last one, together with the
// last result. A panic in the function is not retried: it reaches the
// caller unchanged.
//
// It refuses a negative MaxAttempts, MaxDuration or MaxRetryAfter, naming
// the field. The policy is safe for concurrent use; a successful first
// attempt costs no allocation and, without MaxDuration or Budget, no clock
// read.
func NewRetry[T any](cfg RetryConfig[T]) (resilience.Policy[T], error) {
	switch {
	case cfg.MaxAttempts < 0:
		return nil, fieldError("MaxAttempts", "≥ 0", cfg.MaxAttempts)
	case cfg.MaxDuration < 0:
		return nil, fieldError("MaxDuration", "≥ 0", cfg.MaxDuration)
	case cfg.MaxRetryAfter < 0:
		return nil, fieldError("MaxRetryAfter", "≥ 0", cfg.MaxRetryAfter)
	}
	r := &retry[T]{
		name: cfg.Name, maxAttempts: cfg.MaxAttempts, maxDuration: cfg.MaxDuration,
		maxRetryAfter: cfg.MaxRetryAfter, strategy: cfg.Strategy, retryIf: cfg.RetryIf,
		budget: cfg.Budget, clock: cfg.Clock,
	}
	if r.maxAttempts == 0 {
		r.maxAttempts = DefaultMaxAttempts
	}
	if r.maxRetryAfter == 0 {
		r.maxRetryAfter = DefaultMaxRetryAfter
	}
	if r.strategy == nil {
		s, err := NewExponential(ExponentialConfig{Jitter: FullJitter})
		if err != nil {
			return nil, err
		}
		r.strategy = s
	}
	if r.clock == nil {
		r.clock = clock.New()
	}
	for _, l := range cfg.Listeners {
		if l != nil {
			r.listeners = append(r.listeners, l)
		}
	}
	return r, nil
}

// Wrap returns next with retries. When nothing needs doing before the
// first attempt, the returned function is just the call and a nil check.
func (r *retry[T]) Wrap(next resilience.Func[T]) resilience.Func[T] {
	if next == nil {
		return func(context.Context) (T, error) {
			var zero T
			return zero, resilience.ErrNilFunc
		}
	}
	if r.maxDuration == 0 && r.budget == nil && r.retryIf == nil {
		return func(ctx context.Context) (T, error) {
			v, err := next(ctx)
			if err == nil {
				return v, nil
			}
			return r.loop(ctx, next, v, err, time.Time{})
		}
	}
	return func(ctx context.Context) (T, error) { return r.call(ctx, next) }
}

func (r *retry[T]) call(ctx context.Context, next resilience.Func[T]) (T, error) {
	var start time.Time
	if r.maxDuration > 0 {
		start = r.clock.Now()
	}
	if r.budget != nil {
		r.budget.Request()
	}
	v, err := next(ctx)
	if err == nil && r.retryIf == nil {
		return v, nil
	}
	return r.loop(ctx, next, v, err, start)
}

// loop decides after each attempt whether to wait and run again; v and err
// are the outcome of the attempt numbered attempt.
func (r *retry[T]) loop(ctx context.Context, next resilience.Func[T], v T, err error, start time.Time) (T, error) {
	var prev time.Duration
	for attempt := 1; ; attempt++ {
		if !r.retryable(ctx, v, err) {
			return v, giveUp(attempt, err, nil)
		}
		if cerr := ctx.Err(); cerr != nil {
			return v, giveUp(attempt, err, cerr)
		}
		if attempt >= r.maxAttempts {
			return v, giveUp(attempt, err, ErrMaxAttempts)
		}
		delay := r.strategy.Delay(attempt, prev)
		wait, ok := r.honourHint(delay, err)
		if !ok {
			return v, giveUp(attempt, err, nil)
		}
		if stop := r.fits(ctx, wait, start); stop != nil {
			return v, giveUp(attempt, err, stop)
		}
		if r.budget != nil && !r.budget.AllowRetry() {
			return v, giveUp(attempt, err, ErrBudgetExhausted)
		}
		r.emit(attempt+1, wait, err)
		if cerr := r.wait(ctx, wait); cerr != nil {
			return v, giveUp(attempt, err, cerr)
		}
		prev = delay
		v, err = next(ctx)
	}
}

// retryable applies RetryIf, or by default retries every error. With the
// caller's cancellation ruled out next (loop stops once ctx is done), that
// default is "DefaultOutcome says Failure, or the error is a rejection";
// honourHint then filters the rejections.
func (r *retry[T]) retryable(ctx context.Context, v T, err error) bool {
	if err != nil && IsPermanent(err) {
		return false
	}
	if r.retryIf != nil {
		return r.retryIf(ctx, v, err)
	}
	return err != nil
}

// honourHint lengthens the strategy's delay to a Retry-After hint. A
// failure's hint is capped at maxRetryAfter, so that a server asking for an
// hour cannot park the caller for an hour; a rejection is retried only when
// its hint is known and within the cap, since retrying it sooner is
// certain to be refused again.
func (r *retry[T]) honourHint(delay time.Duration, err error) (time.Duration, bool) {
	hint, ok := resilience.RetryAfter(err)
	if err != nil && resilience.IsRejected(err) {
		if !ok || hint > r.maxRetryAfter {
			return 0, false
		}
		return max(delay, hint), true
	}
	if ok {
		return max(delay, min(hint, r.maxRetryAfter)), true
	}
	return delay, true
}

// fits reports why a wait must not start, or nil. It reads the policy's
// clock only for a MaxDuration, and the real clock only for a deadline.
func (r *retry[T]) fits(ctx context.Context, wait time.Duration, start time.Time) error {
	if r.maxDuration > 0 && r.clock.Since(start) > r.maxDuration-wait {
		return ErrMaxDuration
	}
	if dl, ok := ctx.Deadline(); ok && wait >= time.Until(dl) {
		return ErrDeadline
	}
	return nil
}

func (r *retry[T]) emit(attempt int, wait time.Duration, err error) {
	if len(r.listeners) == 0 {
		return
	}
	r.listeners.Emit(resilience.Event{
		Kind: resilience.EventRetry, Policy: "retry", Name: r.name, Time: r.clock.Now(),
		Attempt: attempt, Delay: wait, Err: err,
	})
}

// wait sleeps d on the policy's clock unless ctx ends first, and returns
// ctx's error in that case.
func (r *retry[T]) wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := r.clock.Timer(d)
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
}

// giveUp builds the final error; a result without an error that nobody
// asked to retry is a plain success.
func giveUp(attempts int, err, stop error) error {
	if err == nil && stop == nil {
		return nil
	}
	return &RetryError{Attempts: attempts, Err: err, Stop: stop}
}
