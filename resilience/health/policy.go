package health

import (
	"context"
	"errors"
	"fmt"

	"github.com/riprap-go/riprap/resilience"
)

// ErrUnhealthy is matched (errors.Is) by the rejection [Policy] returns while
// its target is Unhealthy.
var ErrUnhealthy = errors.New("health: dependency unhealthy")

// Policy returns a policy that refuses calls at once while the named target
// is Unhealthy, with a rejection that carries the time until the next probe
// as its RetryAfter. Unknown and Healthy targets let calls through: the
// checker has no evidence against them. Admitted calls cost one atomic load.
func Policy[T any](c *Checker, name string) (resilience.Policy[T], error) {
	if c == nil {
		return nil, errors.New("health: Policy needs a Checker, got nil")
	}
	t, ok := c.targets[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownTarget, name)
	}
	return resilience.PolicyFunc[T](func(next resilience.Func[T]) resilience.Func[T] {
		if next == nil {
			return resilience.Pipeline[T]{}.Wrap(nil)
		}
		return func(ctx context.Context) (T, error) {
			if Status(t.status.Load()) == Unhealthy {
				var zero T
				return zero, t.rejection()
			}
			return next(ctx)
		}
	}), nil
}

func (t *target) rejection() error {
	err := resilience.Reject("health", t.Name, ErrUnhealthy, retryAfter(t.snapshot(), t.c.cfg.Clock.Now()))
	if t.c.events.Active() {
		t.c.events.Emit(resilience.Event{Kind: resilience.EventRejection, Policy: "health", Name: t.Name,
			Time: t.c.cfg.Clock.Now(), Err: err})
	}
	return err
}
