package chaos

import (
	"context"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// Fault returns an injector that fails the calls it picks with an
// [*InjectedError] wrapping err (nil err: ErrInjected alone), without
// making them. The error is made once and shared, so an injection
// allocates nothing.
func Fault(err error, cfg Config) (*Injector, error) {
	i, cerr := newInjector(KindFault, cfg)
	if cerr != nil {
		return nil, cerr
	}
	fault := newInjectedError(cfg.Name, KindFault, err)
	i.inject = func(context.Context, resilience.Next) error { return fault }
	return i, nil
}

// Latency returns an injector that waits d before making the calls it
// picks. A caller whose context ends during the wait gets the context's
// error and the call is not made; a deadline that passes during an
// injected wait is judged a failure downstream, as a slow dependency
// would be. d must be positive.
func Latency(d time.Duration, cfg Config) (*Injector, error) {
	if d <= 0 {
		return nil, cfg.fieldError("Latency", "must be positive", d)
	}
	i, err := newInjector(KindLatency, cfg)
	if err != nil {
		return nil, err
	}
	i.latency = d
	i.inject = func(ctx context.Context, next resilience.Next) error {
		if err := i.wait(ctx, d); err != nil {
			return err
		}
		return next.Run(ctx)
	}
	return i, nil
}

// Result returns an injector that answers the calls it picks with v and
// no error, without making them: a stale price, an empty list, a canned
// decline. In a pipeline of another result type than T, a picked call
// fails with an error naming both types.
func Result[T any](v T, cfg Config) (*Injector, error) {
	i, err := newInjector(KindResult, cfg)
	if err != nil {
		return nil, err
	}
	i.inject = func(_ context.Context, next resilience.Next) error { return resilience.SetResult(next, v) }
	return i, nil
}

// Behavior returns an injector that runs f before the calls it picks: a
// call for which f returns nil goes on; one for which it returns an error
// ends with an [*InjectedError] wrapping it. f runs on the caller's
// goroutine with the caller's context; a panic in f goes up the caller's
// stack.
func Behavior(f func(ctx context.Context) error, cfg Config) (*Injector, error) {
	if f == nil {
		return nil, cfg.fieldError("Behavior", "must not be nil", nil)
	}
	i, err := newInjector(KindBehavior, cfg)
	if err != nil {
		return nil, err
	}
	i.inject = func(ctx context.Context, next resilience.Next) error {
		if err := f(ctx); err != nil {
			return newInjectedError(cfg.Name, KindBehavior, err)
		}
		return next.Run(ctx)
	}
	return i, nil
}
