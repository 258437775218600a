package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// A breaker in a pipeline runs as a Stepper (Enter, the call, Exit); the
// same breaker hidden behind a GuardFunc runs through its Guard. Two
// breakers fed the same calls, one each way, end every step in the same
// state with the same counts: successes, failures, panics, cancelled
// calls, a classifier, half-open probes and re-openings included.
func TestSteppedBreakerMatchesItsGuard(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := breaker.Config{
			ConsecutiveFailures: rapid.IntRange(1, 4).Draw(t, "consecutive"),
			OpenWait:            time.Second,
			MaxProbes:           rapid.IntRange(1, 3).Draw(t, "probes"),
		}
		if rapid.Bool().Draw(t, "classifier") {
			cfg.Classifier = func(_ context.Context, err error) resilience.Outcome {
				if err != nil && err.Error() == "not found" {
					return resilience.Success
				}
				return resilience.Unclassified
			}
		}
		stepped, steppedClock := newRapidBreaker(t, cfg)
		guarded, guardedClock := newRapidBreaker(t, cfg)
		viaSteps := resilience.NewPipeline[int](stepped)
		viaGuard := resilience.NewPipeline[int](resilience.GuardFunc(guarded.Guard))
		for i := range rapid.IntRange(1, 60).Draw(t, "calls") {
			what := rapid.SampledFrom([]string{"ok", "fail", "not found", "panic", "cancelled", "done before", "wait"}).Draw(t, fmt.Sprint("call", i))
			if what == "wait" {
				steppedClock.Add(600 * time.Millisecond)
				guardedClock.Add(600 * time.Millisecond)
				continue
			}
			a := callThrough(viaSteps, what)
			b := callThrough(viaGuard, what)
			require.Equal(t, b, a, "call %d (%s)", i, what)
			require.Equal(t, guarded.Snapshot(), stepped.Snapshot(), "after call %d (%s)", i, what)
		}
	})
}

func newRapidBreaker(t *rapid.T, cfg breaker.Config) (*breaker.Breaker, *clock.Mock) {
	clk := clock.NewMock()
	cfg.Clock = clk
	b, err := breaker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b, clk
}

// callThrough runs one call of the given kind through p and says how it
// ended, rejections by their message.
func callThrough(p resilience.Pipeline[int], what string) (ended string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if what == "done before" {
		cancel()
	}
	defer func() {
		if r := recover(); r != nil {
			ended = fmt.Sprint("panic: ", r)
		}
	}()
	v, err := p.Execute(ctx, func(ctx context.Context) (int, error) {
		switch what {
		case "fail":
			return 0, errors.New("boom")
		case "not found":
			return 0, errors.New("not found")
		case "panic":
			panic("boom")
		case "cancelled": // the caller gives up while the call runs
			cancel()
			return 0, ctx.Err()
		}
		return 1, nil
	})
	return fmt.Sprint(v, " ", err)
}

// A classifier that panics inside Exit leaves the call counted once, as a
// failure, and the panic reaches the caller.
func TestSteppedBreakerClassifierPanicCountsOnce(t *testing.T) {
	b, _ := newBreaker(t, breaker.Config{Classifier: func(context.Context, error) resilience.Outcome { panic("bad classifier") }})
	p := resilience.NewPipeline[int](b)
	assert.PanicsWithValue(t, "bad classifier", func() {
		_, _ = p.Execute(context.Background(), func(context.Context) (int, error) { return 1, nil })
	})
	s := b.Snapshot()
	assert.Equal(t, uint64(1), s.Failures)
	assert.Equal(t, uint64(0), s.Successes)
}

// A half-open probe that panics through a stepped pipeline gives back its
// slot and re-opens the breaker.
func TestSteppedBreakerProbePanicReopens(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Second})
	p := resilience.NewPipeline[int](b)
	_, _ = p.Execute(context.Background(), func(context.Context) (int, error) { return 0, errors.New("boom") })
	require.Equal(t, breaker.Open, b.State())
	clk.Add(time.Second)
	require.Equal(t, breaker.HalfOpen, b.State())
	assert.Panics(t, func() {
		_, _ = p.Execute(context.Background(), func(context.Context) (int, error) { panic("probe") })
	})
	assert.Equal(t, breaker.Open, b.State())
	assert.Equal(t, uint64(2), b.Snapshot().Failures)
}
