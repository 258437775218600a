package bench

import (
	"context"
	"testing"

	eapache "github.com/eapache/go-resiliency/breaker"
	"github.com/sony/gobreaker/v2"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// These tests check that each benchmark measures the state it is named
// after, on both sides: a wrongly set-up breaker would time something else.

func TestOpenScenarioOpensEveryBreaker(t *testing.T) {
	rb := newRiprapBreaker(t)
	tripRiprap(rb)
	if got := rb.State(); got != breaker.Open {
		t.Errorf("riprap: got %v, want open", got)
	}
	gb := newGobreaker()
	tripGobreaker(gb)
	if got := gb.State(); got != gobreaker.StateOpen {
		t.Errorf("gobreaker: got %v, want open", got)
	}
	fb := newFailsafeBreaker()
	fb.Open()
	if fb.TryAcquirePermit() {
		t.Error("failsafe: an open breaker granted a permit")
	}
	eb := newEapache()
	tripEapache(eb)
	if err := eb.Run(okErr); err != eapache.ErrBreakerOpen {
		t.Errorf("eapache: got %v, want ErrBreakerOpen", err)
	}
}

func TestOpenScenarioRejectsWithoutCalling(t *testing.T) {
	rb := newRiprapBreaker(t)
	tripRiprap(rb)
	called := false
	f := wrap(func(context.Context) (int, error) { called = true; return 1, nil }, rb)
	_, err := f(context.Background())
	if called || !resilience.IsRejected(err) {
		t.Errorf("got called=%v err=%v, want a rejection without a call", called, err)
	}
}

// quarter runs the scenario's failure pattern serially: every fourth call
// fails.
func quarter(n int, call func(fail bool)) {
	for i := 1; i <= n; i++ {
		call(i%4 == 0)
	}
}

func TestQuarterFailuresKeepBreakersClosed(t *testing.T) {
	rb := newRiprapBreaker(t)
	quarter(1000, func(fail bool) {
		o := resilience.Success
		if fail {
			o = resilience.Failure
		}
		permitCall(rb, o)
	})
	if got := rb.State(); got != breaker.Closed {
		t.Errorf("riprap: got %v, want closed", got)
	}
	gb := newGobreaker()
	quarter(1000, func(fail bool) {
		if fail {
			_, _ = gb.Execute(failInt)
		} else {
			_, _ = gb.Execute(okInt)
		}
	})
	if got := gb.State(); got != gobreaker.StateClosed {
		t.Errorf("gobreaker: got %v, want closed", got)
	}
	fb := newFailsafeBreaker()
	quarter(1000, func(fail bool) {
		if !fb.TryAcquirePermit() {
			return
		}
		if fail {
			fb.RecordError(errPeer)
		} else {
			fb.RecordSuccess()
		}
	})
	if !fb.IsClosed() {
		t.Errorf("failsafe: got %v, want closed", fb.State())
	}
}

// TestQuarterFailuresOpenEapache documents why the scenario has no eapache
// row: its breaker does not reset its error count on success.
func TestQuarterFailuresOpenEapache(t *testing.T) {
	eb := newEapache()
	quarter(20, func(fail bool) {
		if fail {
			_ = eb.Run(failErr)
		} else {
			_ = eb.Run(okErr)
		}
	})
	if got := eb.GetState(); got != eapache.Open {
		t.Errorf("eapache: got state %v, want open (%v)", got, eapache.Open)
	}
}

func TestPipelinesSucceed(t *testing.T) {
	ctx := context.Background()
	for name, f := range map[string]resilience.Func[int]{
		"retry":                       wrap(okCtx, newRiprapRetry(t)),
		"retry+breaker":               wrap(okCtx, newRiprapRetry(t), newRiprapBreaker(t)),
		"retry+breaker+timeout":       wrap(okCtx, newRiprapRetry(t), newRiprapBreaker(t), newRiprapTimeout()),
		"limit+breaker+retry+timeout": perCallPipeline(t, true).Wrap(okCtx),
		"limit+breaker+retry":         perCallPipeline(t, false).Wrap(okCtx),
	} {
		if v, err := f(ctx); v != 1 || err != nil {
			t.Errorf("%s: got (%d, %v), want (1, nil)", name, v, err)
		}
	}
}

// The per-call rows run a closure holding the call's own argument: the
// pipeline must return that argument, not one from another call.
func TestPerCallClosuresSeeTheirOwnArguments(t *testing.T) {
	ctx := context.Background()
	p := perCallPipeline(t, true)
	for req := range 100 {
		if v, err := p.Execute(ctx, func(context.Context) (int, error) { return req, nil }); v != req || err != nil {
			t.Fatalf("call %d: got (%d, %v)", req, v, err)
		}
	}
}

// The time-window breakers stay closed through successes on every side.
func TestTimeWindowBreakersStayClosed(t *testing.T) {
	for _, coarse := range []bool{false, true} {
		br, err := breaker.New(timeWindowConfig(coarse))
		if err != nil {
			t.Fatal(err)
		}
		for range 1000 {
			permitCall(br, resilience.Success)
		}
		if s := br.Snapshot(); s.State != breaker.Closed || s.WindowCalls != 1000 {
			t.Errorf("riprap (coarse %t): got %v with %d calls in the window, want closed with 1000", coarse, s.State, s.WindowCalls)
		}
	}
	gb := newGobreakerTimeWindow()
	fb := newFailsafeTimeWindow()
	for range 1000 {
		_, _ = gb.Execute(okInt)
		if fb.TryAcquirePermit() {
			fb.RecordSuccess()
		}
	}
	if gb.State() != gobreaker.StateClosed || !fb.IsClosed() {
		t.Errorf("gobreaker %v, failsafe %v: want both closed", gb.State(), fb.State())
	}
}

// TestLimitersAdmit checks that every limiter of the Allow scenario has
// room for far more calls than a benchmark run makes in its first instant.
func TestLimitersAdmit(t *testing.T) {
	l, err := ratelimit.New(ratelimit.PerSecond(1_000_000_000), 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	x, f := newXRate(), newFailsafeLimiter()
	for i := range 100_000 {
		if !l.Allow() || !x.Allow() || !f.TryAcquirePermit() {
			t.Fatalf("call %d refused (riprap %v)", i, l.Snapshot())
		}
	}
}
