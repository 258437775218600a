package breaker

import (
	"context"

	"github.com/riprap-go/riprap/resilience"
)

// Guard runs the rest of a pipeline through the breaker, making
// *Breaker a [resilience.Guard]: it goes into a pipeline of any result type
// without a type argument, and many pipelines may share it.
//
// A call whose context is already done is neither admitted nor counted:
// Guard returns the context's error at once, so a caller whose deadline
// passed before the call began never counts against the dependency. A
// refused call returns a *[RejectedError] without running next. Otherwise
// the call's error is judged by the breaker's classifier (see
// [Config.Classifier]), after the verdict of a pipeline classifier
// ([resilience.Pipeline.WithClassifier]), which reaches the breaker as a
// [*resilience.Judged] error and always wins. A panic in next is recorded as
// a failure and goes on up the caller's stack unchanged.
//
// A nil *Breaker fails every call with [ErrNilBreaker].
func (b *Breaker) Guard(ctx context.Context, next resilience.Next) error {
	// resilience.RunStepper, written out: Enter and Exit called on the
	// concrete type, not through the interface, save a few ns on every
	// call of a pipeline that is not all Steppers.
	t, err := b.Enter(ctx)
	if err != nil {
		return err
	}
	exited := false
	defer func() {
		// Only a panic in next (or runtime.Goexit) gets here before Exit;
		// not recovering lets it continue with its original stack.
		if !exited {
			b.Exit(ctx, t, resilience.ErrPanicked)
		}
	}()
	err = next.Run(ctx)
	exited = true // Exit answers for a panic of its own
	b.Exit(ctx, t, err)
	return err
}

// Enter admits a call as [Breaker.Guard] does, making *Breaker a
// [resilience.Stepper]: a pipeline of Steppers runs the breaker as Enter,
// the call, then [Breaker.Exit], without a call record. Code of its own
// uses [Breaker.Allow] and [Permit.Done] instead.
func (b *Breaker) Enter(ctx context.Context) (resilience.Ticket, error) {
	if b == nil {
		return resilience.Ticket{}, ErrNilBreaker
	}
	if err := ctx.Err(); err != nil {
		return resilience.Ticket{}, err
	}
	p, err := b.Allow()
	if err != nil {
		return resilience.Ticket{}, err
	}
	if p.probe != nil {
		// A half-open probe keeps its whole permit: one allocation, for
		// a handful of calls per recovery.
		q := new(Permit)
		*q = p
		return resilience.Ticket{Ref: q}, nil
	}
	return resilience.Ticket{Ref: p.ph, N: p.start}, nil
}

// Exit reports the outcome of a call admitted by [Breaker.Enter]: err is
// judged as [Breaker.Guard] judges it, and [resilience.ErrPanicked] counts
// as a failure. A classifier that panics leaves the call counted as a
// failure, and the panic goes on.
func (b *Breaker) Exit(ctx context.Context, t resilience.Ticket, err error) {
	var p Permit
	switch r := t.Ref.(type) {
	case *phase:
		if err == nil && b.classify == nil && !b.stampOut {
			b.succeed(r) // finish's hot path, without its frame
			return
		}
		p = Permit{b: b, ph: r, start: t.N}
	case *Permit:
		p = *r
	default:
		return // not a ticket of Enter's
	}
	switch {
	case err == resilience.ErrPanicked:
		p.finish(resilience.Failure, errPanicked)
	case b.classify != nil:
		p.finish(b.judgeOrFail(ctx, err, &p), err)
	case err != nil:
		p.finish(b.judge(ctx, err), err)
	default: // what judge says of a nil error with no classifier of the breaker's own
		p.finish(resilience.Success, nil)
	}
}

// judgeOrFail judges err with the breaker's classifier, finishing p as a
// failure if the classifier panics.
func (b *Breaker) judgeOrFail(ctx context.Context, err error, p *Permit) resilience.Outcome {
	judged := false
	defer func() {
		if !judged {
			p.finish(resilience.Failure, errPanicked)
		}
	}()
	o := b.judge(ctx, err)
	judged = true
	return o
}

// judge classifies a call's error: a pipeline classifier's verdict first,
// then the configured classifier, then [resilience.DefaultOutcome].
func (b *Breaker) judge(ctx context.Context, err error) resilience.Outcome {
	if j := findJudged(err); j != nil && j.Outcome != resilience.Unclassified {
		return j.Outcome
	}
	if b.classify != nil {
		if o := b.classify(ctx, err); o != resilience.Unclassified {
			return o
		}
	}
	return resilience.DefaultOutcome(ctx, err)
}

// findJudged walks err's chain for a pipeline's verdict. errors.As would do,
// but its target escapes to the heap on every failed call.
func findJudged(err error) *resilience.Judged {
	for err != nil {
		switch e := err.(type) {
		case *resilience.Judged:
			return e
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				if j := findJudged(inner); j != nil {
					return j
				}
			}
			return nil
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		default:
			return nil
		}
	}
	return nil
}
