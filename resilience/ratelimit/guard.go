package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// Guard admits one call through the limiter and runs the rest of the
// pipeline, making *Limiter a [resilience.Guard] for pipelines of every
// result type. With [Config].MaxWait zero a call that finds no token is
// refused at once; with MaxWait positive it waits for its token up to
// MaxWait (and never past its context's deadline), and is refused at once
// when the wait would be longer. A refusal is a [resilience.Rejection]
// matching [ErrLimited], carrying the limiter's name and, as RetryAfter,
// the wait that would have been needed; it counts in [Snapshot].Rejected
// and is reported to listeners subscribed to EventRejection.
//
// A call whose context is already done is not admitted: Guard returns the
// context's error and takes no token. The limiter does not look at the
// call's outcome. A nil *Limiter fails every call with [ErrNilLimiter].
func (l *Limiter) Guard(ctx context.Context, next resilience.Next) error {
	if _, err := l.Enter(ctx); err != nil {
		return err
	}
	return next.Run(ctx)
}

// Enter admits one call as [Limiter.Guard] does, making *Limiter a
// [resilience.Stepper]: a pipeline of Steppers runs it without a call
// record. The ticket is empty.
func (l *Limiter) Enter(ctx context.Context) (resilience.Ticket, error) {
	if l == nil {
		return resilience.Ticket{}, ErrNilLimiter
	}
	return resilience.Ticket{}, l.admit(ctx)
}

// Exit does nothing: a limiter does not look at how its calls end.
func (l *Limiter) Exit(context.Context, resilience.Ticket, error) {}

// admit lets one call through now, or after waiting up to MaxWait.
func (l *Limiter) admit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	if l.maxWait == 0 {
		_, _, delay, ok := l.step(l.tb.now(), 1, 0)
		if ok {
			return nil
		}
		err = l.reject(time.Duration(delay))
	} else if err = l.waitN(ctx, 1, l.maxWait); err == nil || !resilience.IsRejected(err) {
		return err
	}
	if l.events.Wants(resilience.EventRejection) {
		l.events.Emit(resilience.Event{
			Kind: resilience.EventRejection, Policy: policyName, Name: l.name, Time: l.clk.Now(), Err: err,
		})
	}
	return err
}

// Admit takes one token of key now, or returns why not: a
// [resilience.Rejection] matching [ErrLimited] whose RetryAfter says when
// the key may call again, or, for a new key refused at capacity, one
// matching [ErrTooManyKeys]. A refusal is reported to listeners subscribed
// to EventRejection.
//
// Admit is the way to limit by a key that is an argument of the call (the
// merchant of a payment request): call it before running the pipeline,
// which stays keyless, and no context value is involved. [ByKey] puts the
// keyed limiter inside a pipeline instead, for a key that is already part
// of the request's context. A nil *Keyed returns [ErrNilLimiter].
func (k *Keyed) Admit(key string) error {
	if k == nil {
		return ErrNilLimiter
	}
	d, err := k.take(k.tb.now(), key, 1)
	if err == nil && d.Allowed {
		return nil
	}
	if err == nil {
		err = resilience.Reject(policyName, k.name, ErrLimited, d.RetryAfter)
	}
	if k.events.Wants(resilience.EventRejection) {
		k.events.Emit(resilience.Event{
			Kind: resilience.EventRejection, Policy: policyName, Name: k.name, Time: k.tb.clk.Now(), Err: err,
		})
	}
	return err
}

// ByKey returns a [resilience.Guard] admitting each call through k under
// the key that key derives from the call's context, with [Keyed.Admit]'s
// answers. It is meant for request-scoped identity that middleware has
// already put into the context (the authenticated merchant or client): the
// context carries who is calling, not the call's arguments. To limit by an
// argument, call [Keyed.Admit] before the pipeline instead.
//
// A call whose context is already done is not admitted and takes no token.
// A nil k or a nil key function makes every call fail with an error
// matching [ErrNilLimiter]; ByKey itself never fails.
func ByKey(k *Keyed, key func(context.Context) string) resilience.Guard {
	return keyedGuard{k: k, key: key}
}

type keyedGuard struct {
	k   *Keyed
	key func(context.Context) string
}

var errNoKeyFunc = fmt.Errorf("%w: ByKey without a key function", ErrNilLimiter)

func (g keyedGuard) Guard(ctx context.Context, next resilience.Next) error {
	switch {
	case g.k == nil:
		return ErrNilLimiter
	case g.key == nil:
		return errNoKeyFunc
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := g.k.Admit(g.key(ctx)); err != nil {
		return err
	}
	return next.Run(ctx)
}
