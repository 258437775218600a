package fallback

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience"
)

// Alternative produces a substitute result after the call failed with err.
// It returns an error when it has nothing to offer.
type Alternative[T any] func(ctx context.Context, err error) (T, error)

// Static returns an alternative that always answers v.
func Static[T any](v T) Alternative[T] {
	return func(context.Context, error) (T, error) { return v, nil }
}

// Chain returns an alternative that tries alts in order and answers with the
// first that succeeds, recording its position (0 for the first) in the
// caller's [Report]. When all fail it returns their errors joined. Nil
// entries are skipped.
func Chain[T any](alts ...Alternative[T]) Alternative[T] {
	var live []Alternative[T]
	for _, a := range alts {
		if a != nil {
			live = append(live, a)
		}
	}
	return func(ctx context.Context, err error) (T, error) {
		var errs []error
		for i, a := range live {
			v, aerr := a(ctx, err)
			if aerr == nil {
				reportFrom(ctx).setLevel(i)
				return v, nil
			}
			errs = append(errs, aerr)
		}
		var zero T
		return zero, errors.Join(errs...)
	}
}

// Config configures a fallback policy. The zero value (with an Alternative
// given to [New]) falls back on every failure and rejection.
type Config[T any] struct {
	// Name identifies the policy in events (optional).
	Name string
	// Classify judges the call; the fallback answers when it says Failure,
	// or when the error is a rejection (the call never happened). Nil means
	// resilience.Classify() (the default rules), under which the caller's
	// own cancellation is Ignored and so never answered for.
	Classify resilience.Classifier[T]
	// Observe, when set, is given every result the classifier judged a
	// success — typically [LastGood.Observe], so the cache stays fresh.
	Observe func(T)
	// Clock stamps events; nil means the real clock.
	Clock clock.Clock
	// Listeners receive an [resilience.EventFallback] each time the
	// fallback answers.
	Listeners resilience.Listeners
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
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("result judged a failure")
	}
	if e.Alternative != nil {
		b.WriteString("; ")
		b.WriteString(e.Alternative.Error())
	}
	return b.String()
}

// Unwrap returns the call's error and the alternative's.
func (e *Error) Unwrap() []error { return []error{e.Err, e.Alternative} }

// New returns a policy that calls alt when the call fails or is refused. It
// is safe for concurrent use as long as alt is.
func New[T any](alt Alternative[T], cfg Config[T]) (resilience.Policy[T], error) {
	if alt == nil {
		return nil, errors.New("fallback: Alternative must not be nil")
	}
	if cfg.Classify == nil {
		cfg.Classify = resilience.Classify[T]()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New()
	}
	return &policy[T]{alt: alt, cfg: cfg, events: resilience.NewDispatcher(cfg.Listeners)}, nil
}

type policy[T any] struct {
	alt    Alternative[T]
	cfg    Config[T]
	events *resilience.Dispatcher
}

func (p *policy[T]) Wrap(next resilience.Func[T]) resilience.Func[T] {
	if next == nil {
		return resilience.Pipeline[T]{}.Wrap(nil)
	}
	return func(ctx context.Context) (T, error) {
		v, err := next(ctx)
		switch p.cfg.Classify(ctx, v, err) {
		case resilience.Success:
			if p.cfg.Observe != nil {
				p.cfg.Observe(v)
			}
			return v, err
		case resilience.Failure:
		default:
			if !resilience.IsRejected(err) {
				return v, err
			}
		}
		return p.answer(ctx, v, err)
	}
}

func (p *policy[T]) answer(ctx context.Context, v T, err error) (T, error) {
	fv, ferr := p.alt(ctx, err)
	if ferr != nil {
		return v, &Error{Err: err, Alternative: ferr}
	}
	rep := reportFrom(ctx)
	rep.markUsed(err)
	if p.events.Active() {
		p.events.Emit(resilience.Event{Kind: resilience.EventFallback, Policy: "fallback", Name: p.cfg.Name,
			Time: p.cfg.Clock.Now(), Err: err, Reason: fmt.Sprintf("alternative %d", rep.Level())})
	}
	return fv, nil
}
