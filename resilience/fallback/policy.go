package fallback

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience"
)

// ErrNoAlternative is returned by a [Chain] of no alternatives: it never
// has anything to offer.
var ErrNoAlternative = errors.New("fallback: no alternative")

// Config configures a fallback [Policy]. The zero value falls back on every
// failure and rejection.
type Config[T any] struct {
	// Name identifies the policy in events (optional).
	Name string
	// Classify judges the call; the fallback answers when it says Failure,
	// or when the error is a rejection (the call never happened). Nil
	// means resilience.Classify[T]() (the default rules): the caller's own
	// cancellation is Ignored and so never answered for, while its
	// deadline passing during the call is a Failure the fallback answers.
	Classify resilience.Classifier[T]
	// Observe, when set, is given every result that came back without an
	// error and that Classify judged a success — typically
	// [LastGood.Observe], so the cache stays fresh.
	Observe func(T)
	// Clock stamps events; nil means the real clock.
	Clock clock.Clock
	// Listeners receive an [resilience.EventFallback] each time the
	// fallback answers, when they subscribe to that kind.
	Listeners resilience.Listeners
}

// Policy answers for a call that failed or was refused, with the result of
// an [Alternative]: the caller gets the substitute and a nil error. It is a
// [resilience.Guard] for pipelines of result type T, and a
// [resilience.Policy] of T.
//
// A fallback usually sits outermost, so that it answers for every refusal
// and failure of the guards inside it:
//
//	quotes := resilience.NewPipeline[Quote](fallback.Value(defaultQuote), br, deadline)
//
// Create it with [New], [Value], [Func] or [LastGood.Policy]; the zero value
// fails every call with [resilience.ErrNilPolicy]. A Policy is safe for
// concurrent use as long as its alternative is.
type Policy[T any] struct {
	alt      Alternative[T]
	name     string
	classify resilience.Classifier[T]
	observe  func(T)
	clock    clock.Clock
	events   *resilience.Dispatcher
}

// New returns a policy that calls alt when the call fails or is refused.
// Nothing in cfg can be wrong, so New returns no error; a nil alt yields a
// policy whose calls fail with [resilience.ErrNilPolicy] without reaching
// the dependency.
func New[T any](alt Alternative[T], cfg Config[T]) *Policy[T] {
	p := &Policy[T]{alt: alt, name: cfg.Name, classify: cfg.Classify, observe: cfg.Observe, clock: cfg.Clock,
		events: resilience.NewDispatcher(cfg.Listeners)}
	if p.classify == nil {
		p.classify = resilience.Classify[T]()
	}
	if p.clock == nil {
		p.clock = clock.New()
	}
	return p
}

// Value returns a policy that answers v for every failed or refused call:
// fallback.Value(Quote{}) needs no type argument.
func Value[T any](v T) *Policy[T] { return New(Static(v), Config[T]{}) }

// Func returns a policy that answers with f(ctx, err) for every failed or
// refused call; T is inferred from f.
func Func[T any](f func(ctx context.Context, err error) (T, error)) *Policy[T] {
	return New(Alternative[T](f), Config[T]{})
}

// Guard runs the call and, when it fails or is refused, sets the pipeline's
// result to the alternative's answer and returns nil. When the alternative
// has nothing either, it returns an [*Error] carrying both errors. In a
// pipeline of another result type than T, or an error-only chain, every
// call fails without reaching the dependency.
func (p *Policy[T]) Guard(ctx context.Context, next resilience.Next) error {
	if p == nil || p.alt == nil {
		return fmt.Errorf("%w: fallback without an Alternative", resilience.ErrNilPolicy)
	}
	if _, ok := resilience.Result[T](next); !ok {
		var zero T
		return fmt.Errorf("fallback: Policy[%T] in a pipeline of another result type", zero)
	}
	err := next.Run(ctx)
	v, _ := resilience.Result[T](next)
	switch p.classify(ctx, v, err) {
	case resilience.Success:
		if err == nil && p.observe != nil {
			p.observe(v)
		}
		return err
	case resilience.Failure:
	default:
		if !resilience.IsRejected(err) {
			return err
		}
	}
	return p.answer(ctx, next, err)
}

// answer asks the alternative and makes its answer the call's result.
func (p *Policy[T]) answer(ctx context.Context, next resilience.Next, err error) error {
	rep := reportFrom(ctx)
	if rep == nil && p.events.Wants(resilience.EventFallback) {
		// The event names the alternative that answered; alternatives
		// report it only to a Report.
		ctx, rep = WithReport(ctx)
	}
	fv, ferr := p.alt(ctx, err)
	if ferr != nil {
		return &Error{Err: err, Alternative: ferr}
	}
	if serr := resilience.SetResult(next, fv); serr != nil {
		return serr
	}
	rep.markUsed(err)
	if p.events.Wants(resilience.EventFallback) {
		p.events.Emit(resilience.Event{Kind: resilience.EventFallback, Policy: "fallback", Name: p.name,
			Time: p.clock.Now(), Err: err, Reason: reason(rep.Level(), rep.Age())})
	}
	return nil
}

func reason(level int, age time.Duration) string {
	if age > 0 {
		return fmt.Sprintf("alternative %d, a value %s old", level, age)
	}
	return fmt.Sprintf("alternative %d", level)
}

// Wrap returns next decorated by the policy alone, which makes p a
// [resilience.Policy]. In a pipeline, pass p itself.
func (p *Policy[T]) Wrap(next resilience.Func[T]) resilience.Func[T] {
	return resilience.NewPipeline[T](p).Wrap(next)
}

// Error is returned when the call failed and the alternative had nothing to
// offer either. It unwraps to both errors, so errors.Is sees the original
// failure (and rejection sentinels) through it.
type Error struct {
	Err         error // the call's error
	Alternative error // why the alternative could not answer
}

// Error reports both errors.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("fallback: no alternative answered: ")
	var j *resilience.Judged
	switch {
	case e.Err == nil, errors.As(e.Err, &j) && j.Err == nil:
		b.WriteString("result judged a failure")
	default:
		b.WriteString(e.Err.Error())
	}
	if e.Alternative != nil {
		b.WriteString("; ")
		b.WriteString(e.Alternative.Error())
	}
	return b.String()
}

// Unwrap returns the call's error and the alternative's.
func (e *Error) Unwrap() []error { return []error{e.Err, e.Alternative} }
