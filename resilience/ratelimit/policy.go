package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// ErrNilLimiter is returned by the adapters when given a nil limiter or
// bulkhead.
var ErrNilLimiter = errors.New("ratelimit: nil limiter")

// NewPolicy returns a [resilience.Policy] that admits each call through l.
// With maxWait zero a call that finds no token is refused at once; with
// maxWait positive it waits for its token up to maxWait (and up to its
// context's deadline), and is refused at once when the wait would be
// longer. A refusal is a [resilience.Rejection] matching [ErrLimited], with
// the limiter's name and RetryAfter set to the wait that would have been
// needed; it is reported to the limiter's listeners as an EventRejection.
//
// The policy holds no state of its own: any number of policies, of any
// result types, may share l.
func NewPolicy[T any](l *Limiter, maxWait time.Duration) (resilience.Policy[T], error) {
	if l == nil {
		return nil, ErrNilLimiter
	}
	if maxWait < 0 {
		return nil, fmt.Errorf("ratelimit: MaxWait must not be negative, got %v", maxWait)
	}
	return resilience.PolicyFunc[T](func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			next = func(context.Context) (T, error) { var z T; return z, resilience.ErrNilFunc }
		}
		return func(ctx context.Context) (T, error) {
			if err := l.admit(ctx, maxWait); err != nil {
				var zero T
				return zero, err
			}
			return next(ctx)
		}
	}), nil
}

// admit lets one call through now, or after waiting up to maxWait.
func (l *Limiter) admit(ctx context.Context, maxWait time.Duration) error {
	var err error
	if maxWait == 0 {
		d := l.take(l.tb.now(), 1, 0)
		if d.ok {
			return nil
		}
		err = l.reject(time.Duration(d.delay))
	} else {
		err = l.waitN(ctx, 1, maxWait)
	}
	if err != nil && resilience.IsRejected(err) && l.events.Active() {
		l.events.Emit(resilience.Event{
			Kind: resilience.EventRejection, Policy: "ratelimit", Name: l.name,
			Time: l.clk.Now(), Err: err,
		})
	}
	return err
}

// NewKeyedPolicy returns a [resilience.Policy] that admits each call through
// k under the key that key derives from the call's context (the merchant of
// a payment, say). A call over its key's limit is refused at once with a
// [resilience.Rejection] matching [ErrLimited] whose RetryAfter says when
// the key may call again; a new key refused at capacity gets k's
// [ErrTooManyKeys] rejection.
func NewKeyedPolicy[T any](k *Keyed, key func(context.Context) string) (resilience.Policy[T], error) {
	if k == nil {
		return nil, ErrNilLimiter
	}
	if key == nil {
		return nil, errors.New("ratelimit: NewKeyedPolicy needs a key function")
	}
	return resilience.PolicyFunc[T](func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			next = func(context.Context) (T, error) { var z T; return z, resilience.ErrNilFunc }
		}
		return func(ctx context.Context) (T, error) {
			d, err := k.Take(key(ctx), 1)
			if err == nil && !d.Allowed {
				err = resilience.Reject("ratelimit", k.name, ErrLimited, d.RetryAfter)
			}
			if err != nil {
				var zero T
				return zero, err
			}
			return next(ctx)
		}
	}), nil
}
