package riprapotel

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/hedge"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// The span events [Trace] records.
const (
	// EventRetry: an attempt after the first began, after the previous one
	// had ended (a retry).
	EventRetry = "riprap.retry"
	// EventHedge: an attempt after the first began while another was still
	// running (a hedge).
	EventHedge = "riprap.hedge"
	// EventRejection: the guard refused the call before it reached what the
	// guard protects.
	EventRejection = "riprap.rejection"
	// EventTimeout: the guard's own deadline ended the call.
	EventTimeout = "riprap.timeout"
	// EventFallback: the call failed and the guard answered in its place.
	EventFallback = "riprap.fallback"
)

// The attributes of those events.
const (
	AttrPolicy     = attribute.Key("riprap.policy")              // "retry", "breaker", …; from a rejection, the refusing policy
	AttrName       = attribute.Key("riprap.name")                // the component's configured name
	AttrAttempt    = attribute.Key("riprap.attempt")             // retries and hedges: 2 for the first retry
	AttrError      = attribute.Key("riprap.error")               // the error: the previous attempt's, the rejection, the cause of a fallback
	AttrRetryAfter = attribute.Key("riprap.retry_after_seconds") // rejections that know when to come back
	AttrTimeout    = attribute.Key("riprap.timeout_seconds")     // the deadline that fired
)

// Trace returns g with span events: on the span active in each call's
// context, it records the retries, hedges, rejections, timeouts and
// fallbacks that g makes.
//
// Why a guard and not a [resilience.Listener]: a listener receives a
// [resilience.Event] without the call's context, so it cannot find the
// call's span. The returned guard sees the context, and sees what g does by
// running the rest of the pipeline through a probe placed just inside g:
// how many attempts g starts, whether they overlap, what each returns, and
// what g returns in the end. Wrap each guard whose decisions should show in
// traces, or use [TraceAll].
//
// When the span is not recording, the call goes straight to g and costs
// nothing more; otherwise a few small allocations per call. Trace(nil) is
// nil, which a pipeline reports as [resilience.ErrNilPolicy].
func Trace(g resilience.Guard) resilience.Guard {
	if g == nil {
		return nil
	}
	t := traced{g: g}
	t.policy, t.name = describe(g)
	if to, ok := g.(*timeout.Timeout); ok {
		t.deadline = to.Snapshot().Timeout
	}
	return t
}

// TraceAll returns the guards, each wrapped by [Trace], for a pipeline
// whose every decision should show on the call's span:
//
//	resilience.NewPipeline[Receipt](riprapotel.TraceAll(retry, br, deadline)...)
func TraceAll(guards ...resilience.Guard) []resilience.Guard {
	out := make([]resilience.Guard, len(guards))
	for i, g := range guards {
		out[i] = Trace(g)
	}
	return out
}

type traced struct {
	g            resilience.Guard
	policy, name string
	deadline     time.Duration // set when g is a *timeout.Timeout
}

// describe names the riprap components whose names can be read, for the
// events of the calls they make.
func describe(g resilience.Guard) (policy, name string) {
	switch g := g.(type) {
	case *backoff.Retry:
		return "retry", g.Snapshot().Name
	case *hedge.Hedger:
		return "hedge", g.Snapshot().Name
	case *timeout.Timeout:
		return "timeout", g.Snapshot().Name
	case *breaker.Breaker:
		return "breaker", g.Name()
	case *ratelimit.Limiter:
		return "ratelimit", g.Snapshot().Name
	case *bulkhead.Bulkhead:
		return "bulkhead", g.Snapshot().Name
	case *bulkhead.Adaptive:
		return "bulkhead", g.Snapshot().Name
	case interface{ Name() string }:
		return "", g.Name()
	}
	return "", ""
}

// probe is what one call's guard saw of the attempts inside it. Attempts
// of a hedge run on several goroutines, hence the atomics and the lock.
type probe struct {
	span     trace.Span
	t        *traced
	started  atomic.Int32
	running  atomic.Int32
	ok       atomic.Bool // an attempt succeeded
	timedOut atomic.Bool // an attempt ended on a timeout of its own

	mu   sync.Mutex // protects last
	last error      // the error of the attempt that ended last
}

// Guard runs the call through g with the probe inside it, then records
// what g did with the call.
func (t traced) Guard(ctx context.Context, next resilience.Next) error {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return t.g.Guard(ctx, next)
	}
	p := &probe{span: span, t: &t}
	err := resilience.NewChain(t.g, resilience.GuardFunc(p.attempt)).Guard(ctx, next)
	p.settle(err)
	return err
}

// attempt runs one attempt of the rest of the pipeline, recording a retry
// or a hedge when it is not the first.
func (p *probe) attempt(ctx context.Context, next resilience.Next) error {
	n := p.started.Add(1)
	overlapping := p.running.Add(1) > 1
	if n > 1 {
		p.record(p.followUp(n, overlapping))
	}
	err := next.Run(ctx)
	p.running.Add(-1)
	p.mu.Lock()
	p.last = err
	p.mu.Unlock()
	if err == nil {
		p.ok.Store(true)
	}
	if asTimeout(err) != nil {
		p.timedOut.Store(true)
	}
	return err
}

// followUp describes attempt n: a retry, or a hedge when it overlaps another.
func (p *probe) followUp(n int32, overlapping bool) (string, []attribute.KeyValue) {
	attrs := p.who(AttrAttempt.Int(int(n)))
	if overlapping {
		return EventHedge, attrs
	}
	p.mu.Lock()
	prev := p.last
	p.mu.Unlock()
	if prev != nil {
		attrs = append(attrs, AttrError.String(prev.Error()))
	}
	return EventRetry, attrs
}

// settle records what g did with the call as a whole.
func (p *probe) settle(err error) {
	switch {
	case err != nil && p.started.Load() == 0 && resilience.IsRejected(err):
		r, _ := resilience.AsRejection(err)
		attrs := []attribute.KeyValue{AttrPolicy.String(r.Policy), AttrName.String(r.Name), AttrError.String(err.Error())}
		if r.RetryAfter > 0 {
			attrs = append(attrs, AttrRetryAfter.Float64(r.RetryAfter.Seconds()))
		}
		p.record(EventRejection, attrs)
	case p.ownTimeout(err):
		te := asTimeout(err)
		p.record(EventTimeout, []attribute.KeyValue{AttrPolicy.String("timeout"), AttrName.String(te.Name),
			AttrTimeout.Float64(te.Timeout.Seconds())})
	case err == nil && p.started.Load() > 0 && !p.ok.Load():
		p.mu.Lock()
		cause := p.last
		p.mu.Unlock()
		attrs := p.who()
		if cause != nil {
			attrs = append(attrs, AttrError.String(cause.Error()))
		}
		p.record(EventFallback, attrs)
	}
}

// who returns the wrapped guard's policy and name, where known, and extra.
func (p *probe) who(extra ...attribute.KeyValue) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 3+len(extra))
	if p.t.policy != "" {
		attrs = append(attrs, AttrPolicy.String(p.t.policy))
	}
	if p.t.name != "" {
		attrs = append(attrs, AttrName.String(p.t.name))
	}
	return append(attrs, extra...)
}

func (p *probe) record(name string, attrs []attribute.KeyValue) {
	p.span.AddEvent(name, trace.WithAttributes(attrs...))
}

// ownTimeout reports whether err is a timeout of the wrapped guard rather
// than one that came up from inside. When the guard is a timeout policy,
// its own deadline is recognised by name and bound: the function it runs
// may well return the context's cause, which is that very error. Otherwise
// (a chain with a timeout inside) the timeout is the guard's when no
// attempt returned one.
func (p *probe) ownTimeout(err error) bool {
	te := asTimeout(err)
	switch {
	case te == nil:
		return false
	case p.t.deadline > 0:
		return te.Name == p.t.name && te.Timeout == p.t.deadline
	}
	return !p.timedOut.Load()
}

func asTimeout(err error) *timeout.Error {
	var te *timeout.Error
	if errors.As(err, &te) {
		return te
	}
	return nil
}
