package throttle

import (
	"context"

	"github.com/riprap-go/riprap/resilience"
)

// Permit is the right to make one call, returned by [Throttle.Allow].
// Report the call's outcome with [Permit.Done] or [Permit.DoneErr].
//
// A permit reports once: Done clears it, so a second Done on the same
// Permit is a no-op, and so is Done on the zero Permit. Keep the Permit in
// one variable: each copy would count. A Permit is not safe for concurrent
// use; the throttle it came from is.
type Permit struct {
	t *Throttle
}

// Done reports the outcome of the call: a success counts a request and an
// accept, a failure a request, and [resilience.Ignored] or
// [resilience.Unclassified] nothing.
func (p *Permit) Done(o resilience.Outcome) { p.finish(o, nil) }

// DoneErr reports the call's error (nil for success), judged by the
// throttle's classifier; ctx is the context the call ran under, so the
// caller's own cancellation counts as ignored.
func (p *Permit) DoneErr(ctx context.Context, err error) {
	if p.t == nil {
		return
	}
	p.finish(p.t.classify(ctx, err), err)
}

func (p *Permit) finish(o resilience.Outcome, err error) {
	t := p.t
	if t == nil {
		return
	}
	p.t = nil
	t.mu.Lock()
	t.advance()
	switch o {
	case resilience.Success:
		t.add(counts{requests: 1, accepts: 1})
		t.totals.Successes++
	case resilience.Failure:
		t.add(counts{requests: 1})
		t.totals.Failures++
	default:
		t.totals.Ignored++
	}
	t.mu.Unlock()
	if t.disp.Wants(resilience.EventOutcome) {
		t.disp.Emit(resilience.Event{Kind: resilience.EventOutcome, Policy: policyName, Name: t.name,
			Time: t.now(), Outcome: o, Err: err})
	}
}
