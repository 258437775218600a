package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

// Concurrent bursts: every input is drawn on the test goroutine, the
// goroutines are released together, and the invariants are checked once
// they are all done.

var errBurst = errors.New("burst failure")

var automatic = map[string]bool{
	"closed->open": true, "open->half_open": true,
	"half_open->closed": true, "half_open->open": true,
}

// checkPath fails unless the recorded state changes form a legal chain
// from `from` to `to`, each reported once, in order.
func checkPath(t *rapid.T, rec *resiliencetest.Recorder, from, to breaker.State) {
	path := rec.StateChanges()
	at := from.String()
	for i, step := range path {
		if !strings.HasPrefix(step, at+"->") || !automatic[step] {
			t.Fatalf("transition %d: %s after %s (path %v)", i, step, at, path)
		}
		at = strings.TrimPrefix(step, at+"->")
	}
	if at != to.String() {
		t.Fatalf("path %v ends in %s, breaker is %s", path, at, to)
	}
}

// guarded is a function with an atomic gauge of the callers inside it.
type guarded struct {
	inside, peak, entered atomic.Int64
	// first, when set, holds every goroutine's first call inside the
	// function until each goroutine has made its first attempt, so that
	// the calls a breaker admits overlap for certain.
	first *barrier
}

// barrier opens when n goroutines have arrived.
type barrier struct {
	n, arrived atomic.Int64
	open       chan struct{}
}

func (b *barrier) arrive() {
	if b.arrived.Add(1) == b.n.Load() {
		close(b.open)
	}
}

type firstCall struct{}

// call returns the function of one call with outcome o. An ignored call
// is a caller giving up while the call is in flight: the function cancels
// the caller's context before it returns.
func (g *guarded) call(o resilience.Outcome, cancel context.CancelFunc) resilience.Func[int] {
	return func(ctx context.Context) (int, error) {
		n := g.inside.Add(1)
		defer g.inside.Add(-1)
		g.entered.Add(1)
		for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
		}
		if g.first != nil && ctx.Value(firstCall{}) != nil {
			g.first.arrive()
			<-g.first.open
		}
		switch o {
		case resilience.Failure:
			return 0, errBurst
		case resilience.Ignored:
			cancel()
			return 0, ctx.Err()
		}
		return 1, nil
	}
}

type burst struct {
	b        *breaker.Breaker
	clk      *clock.Mock
	rec      *resiliencetest.Recorder
	pipe     resilience.Pipeline[int]
	g        guarded
	calls    [][]resilience.Outcome // per goroutine
	ticks    []time.Duration        // advanced by one more goroutine
	attempts atomic.Int64
	rejected atomic.Int64
}

func drawBurst(t *rapid.T, cfg breaker.Config, outcomes []resilience.Outcome, clockMoves bool) *burst {
	bu := &burst{clk: clock.NewMock(), rec: resiliencetest.NewRecorder()}
	cfg.Clock, cfg.Listeners = bu.clk, resilience.Listeners{bu.rec.Listener()}
	b, err := breaker.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	bu.b, bu.pipe = b, resilience.NewPipeline[int](b)
	out := rapid.SampledFrom(outcomes)
	for i := range rapid.IntRange(2, 8).Draw(t, "goroutines") {
		bu.calls = append(bu.calls, rapid.SliceOfN(out, 1, 12).Draw(t, fmt.Sprint("calls", i)))
	}
	if clockMoves {
		bu.ticks = rapid.SliceOfN(rapid.SampledFrom([]time.Duration{time.Millisecond, 500 * time.Millisecond, time.Second}), 0, 6).Draw(t, "ticks")
	}
	return bu
}

// run releases every goroutine at once and waits for all.
func (bu *burst) run() {
	start := make(chan struct{})
	var wg sync.WaitGroup
	if bu.g.first != nil {
		bu.g.first.n.Store(int64(len(bu.calls)))
	}
	for _, calls := range bu.calls {
		wg.Go(func() {
			<-start
			for i, o := range calls {
				ctx, cancel := context.WithCancel(context.Background())
				if i == 0 {
					ctx = context.WithValue(ctx, firstCall{}, true)
				}
				bu.attempts.Add(1)
				_, err := bu.pipe.Execute(ctx, bu.g.call(o, cancel))
				cancel()
				if resilience.IsRejected(err) {
					bu.rejected.Add(1)
					if i == 0 && bu.g.first != nil {
						bu.g.first.arrive()
					}
				}
			}
		})
	}
	wg.Go(func() {
		<-start
		for _, d := range bu.ticks {
			bu.clk.Add(d)
		}
	})
	close(start)
	wg.Wait()
}

// checkAccounting: every attempt was admitted or rejected, every admitted
// call entered the function and was counted once.
func (bu *burst) checkAccounting(t *rapid.T, before breaker.Snapshot) breaker.Snapshot {
	s := bu.b.Snapshot()
	admitted := bu.attempts.Load() - bu.rejected.Load()
	if got := int64(s.Successes+s.Failures+s.Ignored) - int64(before.Successes+before.Failures+before.Ignored); got != admitted {
		t.Fatalf("successes+failures+ignored grew by %d, admitted %d", got, admitted)
	}
	if got := int64(s.Rejected - before.Rejected); got != bu.rejected.Load() {
		t.Fatalf("Rejected grew by %d, callers saw %d", got, bu.rejected.Load())
	}
	if bu.g.entered.Load() != admitted {
		t.Fatalf("function entered %d times, admitted %d", bu.g.entered.Load(), admitted)
	}
	if got := bu.g.entered.Load() + int64(s.Rejected-before.Rejected); got != bu.attempts.Load() {
		t.Fatalf("entered + rejected = %d, attempts %d", got, bu.attempts.Load())
	}
	return s
}

// Successes racing into one window are all counted: the count window's
// sequence and the time window's CAS on a bucket lose none.
func TestBurstWindowCountsEverySuccess(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := breaker.Config{FailureRate: 0.5}
		if rapid.Bool().Draw(t, "timeWindow") {
			cfg.WindowDuration = 10 * time.Second
		} else {
			cfg.WindowSize = 4000
		}
		bu := drawBurst(t, cfg, []resilience.Outcome{resilience.Success}, false)
		// Long runs, so that the goroutines overlap for certain.
		k := rapid.IntRange(100, 400).Draw(t, "callsEach")
		for i := range bu.calls {
			bu.calls[i] = slices.Repeat([]resilience.Outcome{resilience.Success}, k)
		}
		bu.run()
		s := bu.checkAccounting(t, breaker.Snapshot{})
		if s.WindowCalls != uint64(bu.attempts.Load()) {
			t.Fatalf("window holds %d calls, %d made", s.WindowCalls, bu.attempts.Load())
		}
	})
}

func drawRules(t *rapid.T) breaker.Config {
	cfg := breaker.Config{
		ConsecutiveFailures: rapid.IntRange(0, 4).Draw(t, "consecutive"),
		FailureRate:         rapid.SampledFrom([]float64{0, 0.5}).Draw(t, "failureRate"),
		MinimumCalls:        rapid.IntRange(1, 5).Draw(t, "minCalls"),
		OpenWait:            time.Second,
		MaxProbes:           rapid.IntRange(1, 3).Draw(t, "maxProbes"),
		SuccessesToClose:    rapid.IntRange(1, 3).Draw(t, "successesToClose"),
		MaxHalfOpen:         2 * time.Second,
	}
	if rapid.Bool().Draw(t, "timeWindow") {
		cfg.WindowDuration = 5 * time.Second
	} else {
		cfg.WindowSize = 10
	}
	return cfg
}

var allOutcomes = []resilience.Outcome{resilience.Success, resilience.Success, resilience.Failure, resilience.Ignored}

// Any start, any outcomes, the clock moving meanwhile: accounting holds and
// the listener saw a legal path ending in the final state.
func TestBurstAccountingAndPath(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawRules(t)
		bu := drawBurst(t, cfg, allOutcomes, true)
		if from := rapid.SampledFrom([]breaker.State{breaker.Closed, breaker.Open, breaker.HalfOpen}).Draw(t, "from"); from != breaker.Closed {
			openBreaker(t, bu)
			if from == breaker.HalfOpen {
				bu.clk.Add(cfg.OpenWait)
			}
		}
		start := bu.b.State()
		before := bu.b.Snapshot()
		bu.rec.Reset()
		bu.run()
		s := bu.checkAccounting(t, before)
		checkPath(t, bu.rec, start, s.State)
		if n := len(bu.rec.StateChanges()); int(s.Generation-before.Generation) != n {
			t.Fatalf("generation grew by %d, %d transitions seen", s.Generation-before.Generation, n)
		}
	})
}

// Half-open with a frozen clock and too few successes to close: never more
// than MaxProbes callers inside the function; once a probe fails the
// breaker stays open and nothing more enters.
func TestBurstHalfOpenProbes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawRules(t)
		cfg.SuccessesToClose = 1000
		bu := drawBurst(t, cfg, allOutcomes, false)
		bu.g.first = &barrier{open: make(chan struct{})}
		openBreaker(t, bu)
		bu.clk.Add(cfg.OpenWait)
		if st := bu.b.State(); st != breaker.HalfOpen {
			t.Fatalf("setup: state %v", st)
		}
		before := bu.b.Snapshot()
		bu.run()
		bu.checkAccounting(t, before)
		if peak := bu.g.peak.Load(); peak > int64(cfg.MaxProbes) {
			t.Fatalf("%d callers inside at once, MaxProbes %d", peak, cfg.MaxProbes)
		}
	})
}

// Open with a frozen clock: the function is never entered. Closed with
// only failures under a consecutive-failures rule: once it opens nothing
// more enters, so at most threshold + goroutines - 1 calls get through.
func TestBurstOpenNeverEnters(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawRules(t)
		cfg.ConsecutiveFailures = rapid.IntRange(1, 4).Draw(t, "threshold")
		cfg.FailureRate = 0
		bu := drawBurst(t, cfg, []resilience.Outcome{resilience.Failure}, false)
		startOpen := rapid.Bool().Draw(t, "startOpen")
		if startOpen {
			openBreaker(t, bu)
			bu.clk.Add(cfg.OpenWait - 1)
		}
		before := bu.b.Snapshot()
		bu.run()
		bu.checkAccounting(t, before)
		entered := bu.g.entered.Load()
		switch {
		case startOpen && entered != 0:
			t.Fatalf("open breaker let %d calls in", entered)
		case !startOpen && entered > int64(cfg.ConsecutiveFailures+len(bu.calls)-1):
			t.Fatalf("%d calls entered, threshold %d, %d goroutines", entered, cfg.ConsecutiveFailures, len(bu.calls))
		}
	})
}

// openBreaker fails calls until the breaker opens.
func openBreaker(t *rapid.T, bu *burst) {
	for range 1000 {
		p, err := bu.b.Allow()
		if err != nil {
			break
		}
		p.Done(resilience.Failure)
	}
	if st := bu.b.State(); st != breaker.Open {
		t.Fatalf("setup: could not open the breaker, state %v", st)
	}
	bu.rec.Reset()
}
