package backoff

import (
	"context"
	"fmt"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// honourHint lengthens the strategy's delay to a Retry-After hint. A
// failure's hint is capped at MaxRetryAfter, so that a server asking for an
// hour cannot park the caller for an hour. A rejection (an inner breaker
// open, a limiter out of tokens) is retried only when its hint is known and
// within the cap, since retrying it sooner is certain to be refused again;
// fits then checks that the wait ends within MaxDuration and the caller's
// deadline. So an inner breaker that opens ends the retries at once unless
// it will admit a probe in time.
func (r *Retry) honourHint(delay time.Duration, err error) (time.Duration, bool) {
	hint, ok := resilience.RetryAfter(err)
	if resilience.IsRejected(err) {
		if !ok || hint > r.retryAfterCap() {
			return 0, false
		}
		return max(delay, hint), true
	}
	if ok {
		return max(delay, min(hint, r.retryAfterCap())), true
	}
	return delay, true
}

func (r *Retry) retryAfterCap() time.Duration {
	if r.maxRetryAfter == 0 {
		return DefaultMaxRetryAfter
	}
	return r.maxRetryAfter
}

// fits reports why a wait must not start, or nil. It reads the retry's
// clock only for a MaxDuration, and the real clock only for a deadline.
func (r *Retry) fits(ctx context.Context, wait time.Duration, start time.Time) error {
	if r.maxDuration > 0 && r.now().Sub(start) > r.maxDuration-wait {
		return ErrMaxDuration
	}
	if dl, ok := ctx.Deadline(); ok && wait >= time.Until(dl) {
		return ErrDeadline
	}
	return nil
}

// wait sleeps d on the retry's clock unless ctx ends first, and returns
// ctx's error in that case.
func (r *Retry) wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if r.clock == nil {
		t := time.NewTimer(d)
		defer t.Stop()
		return waitOn(ctx, t.C)
	}
	t := r.clock.Timer(d)
	defer t.Stop()
	return waitOn(ctx, t.C)
}

func waitOn(ctx context.Context, fired <-chan time.Time) error {
	select {
	case <-fired:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ahead asks Admit whether the attempt after a wait of wait would be let
// through, and returns the wait to use or why not to retry. A rejection
// with a hint that fits the cap lengthens the wait to the hint, as
// honourHint does for a rejected attempt.
func (r *Retry) ahead(ctx context.Context, wait time.Duration) (time.Duration, error) {
	if r.admit == nil {
		return wait, nil
	}
	refusal := r.admit(ctx)
	if refusal == nil {
		return wait, nil
	}
	if resilience.IsRejected(refusal) {
		if hint, ok := resilience.RetryAfter(refusal); ok && hint <= r.retryAfterCap() {
			return max(wait, hint), nil
		}
	}
	return wait, fmt.Errorf("%w (%v)", ErrRefusedAhead, refusal)
}
