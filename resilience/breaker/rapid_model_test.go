package breaker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

// doubling is a test strategy: every re-opening waits twice the last.
type doubling struct{}

func (doubling) Delay(_ int, prev time.Duration) time.Duration { return 2 * prev }

var errDependency = errors.New("dependency failed")

func drawConfig(t *rapid.T) Config {
	cfg := Config{
		Name:                "dep",
		ConsecutiveFailures: rapid.IntRange(0, 4).Draw(t, "consecutive"),
		FailureRate:         rapid.SampledFrom([]float64{0, 0.25, 0.5, 1}).Draw(t, "failureRate"),
		SlowCallRate:        rapid.SampledFrom([]float64{0, 0.5, 1}).Draw(t, "slowRate"),
		SlowCallDuration:    2 * time.Second,
		MinimumCalls:        rapid.IntRange(1, 6).Draw(t, "minCalls"),
		OpenWait:            time.Duration(rapid.IntRange(1, 5).Draw(t, "openWaitSec")) * time.Second,
		MaxProbes:           rapid.IntRange(1, 3).Draw(t, "maxProbes"),
		SuccessesToClose:    rapid.IntRange(1, 3).Draw(t, "successesToClose"),
		MaxHalfOpen:         time.Duration(rapid.SampledFrom([]int{3, 10}).Draw(t, "maxHalfOpenSec")) * time.Second,
		IgnoreRetryAfter:    rapid.Bool().Draw(t, "ignoreRetryAfter"),
	}
	if rapid.Bool().Draw(t, "backoff") {
		cfg.OpenBackoff = doubling{}
		cfg.MaxOpenWait = 4 * cfg.OpenWait
	}
	buckets := rapid.IntRange(1, 4).Draw(t, "buckets")
	cfg.WindowBuckets = buckets
	if rapid.Bool().Draw(t, "timeWindow") {
		cfg.WindowDuration = time.Duration(buckets*rapid.IntRange(1, 3).Draw(t, "bucketSec")) * time.Second
	} else {
		cfg.WindowSize = buckets * rapid.IntRange(1, 3).Draw(t, "perBucket")
		cfg.MinimumCalls = min(cfg.MinimumCalls, cfg.WindowSize)
	}
	return cfg
}

// harness drives a breaker and its model with the same actions.
type harness struct {
	b    *Breaker
	m    *model
	clk  *clock.Mock
	held []heldPermit
	rec  *resiliencetest.Recorder // nil when the breaker has no listener
}

type heldPermit struct {
	p  Permit
	mp modelPermit
}

func newHarness(t *rapid.T) *harness {
	cfg := drawConfig(t)
	h := &harness{clk: clock.NewMock()}
	cfg.Clock = h.clk
	if rapid.Bool().Draw(t, "listener") {
		h.rec = resiliencetest.NewRecorder()
		cfg.Listeners = resilience.Listeners{h.rec.Listener()}
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	h.b, h.m = b, newModel(b.settings())
	return h
}

func (h *harness) advance(d time.Duration) {
	if d > 0 {
		h.clk.Add(d)
		h.m.now += int64(d)
	}
}

// allow asks both and checks they agree on admission and on the refusal.
func (h *harness) allow(t *rapid.T) (Permit, modelPermit, bool) {
	p, err := h.b.Allow()
	mp, merr := h.m.allow()
	if (err == nil) != (merr == nil) {
		t.Fatalf("Allow: got err %v, model says %v", err, merr)
	}
	if err == nil {
		return p, mp, true
	}
	var re *RejectedError
	if !errors.As(err, &re) || !errors.Is(err, merr) || !resilience.IsRejected(err) {
		t.Fatalf("Allow: got %v, want a *RejectedError matching %v", err, merr)
	}
	if re.State() != h.m.state || re.Name() != "dep" {
		t.Fatalf("rejection: got state %v name %q, want %v %q", re.State(), re.Name(), h.m.state, "dep")
	}
	if want := h.m.retryAfter(); re.RetryAfter() != want {
		t.Fatalf("rejection RetryAfter in %v: got %v, want %v", h.m.state, re.RetryAfter(), want)
	}
	return Permit{}, modelPermit{}, false
}

type drawnOutcome struct {
	o          resilience.Outcome
	err        error
	ctx        context.Context
	retryAfter time.Duration
}

func (h *harness) drawOutcome(t *rapid.T) drawnOutcome {
	switch rapid.IntRange(0, 5).Draw(t, "outcome") {
	case 0, 1:
		return drawnOutcome{o: resilience.Success}
	case 2:
		return drawnOutcome{o: resilience.Failure}
	case 3:
		ra := time.Duration(rapid.IntRange(1, 30).Draw(t, "retryAfterSec")) * time.Second
		return drawnOutcome{o: resilience.Failure, err: resilience.WithRetryAfter(errDependency, ra), retryAfter: ra}
	case 4:
		return drawnOutcome{o: resilience.Ignored}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return drawnOutcome{o: resilience.Ignored, ctx: ctx, err: ctx.Err()}
}

func (h *harness) finish(p *Permit, mp *modelPermit, d drawnOutcome) {
	if d.err != nil {
		ctx := d.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		p.DoneErr(ctx, d.err)
	} else {
		p.Done(d.o)
	}
	ra := d.retryAfter
	if !h.m.s.useRetryAfter {
		ra = 0
	}
	h.m.done(mp, d.o, ra)
}

func (h *harness) call(t *rapid.T) {
	p, mp, ok := h.allow(t)
	if !ok {
		return
	}
	h.advance(time.Duration(rapid.SampledFrom([]int64{0, 1, 1999, 2000, 2001}).Draw(t, "callMillis")) * time.Millisecond)
	h.finish(&p, &mp, h.drawOutcome(t))
}

func (h *harness) advanceAround(t *rapid.T) {
	ref := h.m.s.openWait
	if h.m.state == Open || h.m.state == HalfOpen {
		ref = time.Duration(h.m.until - h.m.now)
	}
	k := time.Duration(rapid.IntRange(0, 3).Draw(t, "multiple"))
	delta := time.Duration(rapid.IntRange(-1, 1).Draw(t, "delta"))
	h.advance(k*ref + delta)
}

// doneHeld reports a held permit, sometimes through a copy first: copies
// of a probe share one record, copies of a closed-state permit each count.
func (h *harness) doneHeld(t *rapid.T) {
	if len(h.held) == 0 {
		t.Skip("no permit held")
	}
	i := rapid.IntRange(0, len(h.held)-1).Draw(t, "held")
	hp := h.held[i]
	h.held = append(h.held[:i], h.held[i+1:]...)
	if rapid.Bool().Draw(t, "copy") {
		cp, cmp := hp.p, hp.mp
		h.finish(&cp, &cmp, h.drawOutcome(t))
	}
	d := h.drawOutcome(t)
	h.finish(&hp.p, &hp.mp, d)
	h.finish(&hp.p, &hp.mp, d) // a second Done is a no-op for both
}

func (h *harness) hold(t *rapid.T) {
	ra := time.Duration(rapid.IntRange(0, 3).Draw(t, "holdSec")) * time.Second
	if got, want := h.b.HoldOpen("health", ra), h.m.hold(ra); got != want {
		t.Fatalf("HoldOpen: got %t, want %t", got, want)
	}
}

func (h *harness) release(t *rapid.T) {
	closeNow := rapid.Bool().Draw(t, "closeNow")
	if got, want := h.b.Release("health", closeNow), h.m.release(closeNow); got != want {
		t.Fatalf("Release: got %t, want %t", got, want)
	}
}

func (h *harness) check(t *rapid.T) {
	h.b.mu.Lock()
	got := h.b.snapshotLocked(h.m.now)
	h.b.mu.Unlock()
	want := h.m.snapshot()
	want.Name, want.Since = "dep", h.b.at(h.m.since)
	if got != want {
		t.Fatalf("snapshot:\n got %+v\nwant %+v", got, want)
	}
	if h.rec != nil && fmt.Sprint(h.rec.StateChanges()) != fmt.Sprint(h.m.events) {
		t.Fatalf("events:\n got %v\nwant %v", h.rec.StateChanges(), h.m.events)
	}
}

// bubbleTB hides the *testing.T from rapid, which would otherwise ask for
// its deadline, a call synctest forbids inside a bubble.
type bubbleTB struct{ *testing.T }

// TestModel runs random sequences of actions against a breaker and the
// model, comparing state, counters and events after each. It runs in a
// synctest bubble only so that the mock clock's 1ms pause per Add is fake.
func TestModel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rapid.Check(bubbleTB{t}, func(t *rapid.T) {
			h := newHarness(t)
			t.Repeat(map[string]func(*rapid.T){
				"":        h.check,
				"call":    h.call,
				"advance": h.advanceAround,
				"tick":    func(t *rapid.T) { h.advance(time.Duration(rapid.IntRange(1, 1500).Draw(t, "ms")) * time.Millisecond) },
				"allowWithoutDone": func(t *rapid.T) {
					if p, mp, ok := h.allow(t); ok {
						h.held = append(h.held, heldPermit{p, mp})
					}
				},
				"doneHeld": h.doneHeld,
				"hold":     h.hold,
				"release":  h.release,
				"observe": func(t *rapid.T) {
					h.m.advance()
					if got := h.b.State(); got != h.m.state {
						t.Fatalf("State: got %v, want %v", got, h.m.state)
					}
				},
				"force": func(t *rapid.T) {
					st := rapid.SampledFrom([]State{ForcedOpen, Disabled, MetricsOnly}).Draw(t, "manual")
					switch st {
					case ForcedOpen:
						h.b.ForceOpen()
					case Disabled:
						h.b.ForceClosed()
					default:
						h.b.MetricsOnly()
					}
					if st != h.m.state {
						h.m.enter(st, false)
					}
				},
				"reset": func(t *rapid.T) {
					h.b.Reset()
					h.m.enter(Closed, false)
				},
			})
		})
	})
}
