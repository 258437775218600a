package throttle_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/throttle"
)

var errDown = errors.New("dependency down")

func newThrottle(t *testing.T, cfg throttle.Config) (*throttle.Throttle, *clock.Mock) {
	t.Helper()
	clk := clock.NewMock()
	if cfg.Clock == nil {
		cfg.Clock = clk
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	thr, err := throttle.New(cfg)
	require.NoError(t, err)
	return thr, clk
}

// feed reports outcomes through permits taken while nothing is refused yet.
func feed(t *testing.T, thr *throttle.Throttle, outcomes ...resilience.Outcome) {
	t.Helper()
	permits := make([]throttle.Permit, len(outcomes))
	for i := range permits {
		p, err := thr.Allow()
		require.NoError(t, err, "permit %d", i)
		permits[i] = p
	}
	for i, o := range outcomes {
		permits[i].Done(o)
	}
}

func repeat(o resilience.Outcome, n int) []resilience.Outcome {
	out := make([]resilience.Outcome, n)
	for i := range out {
		out[i] = o
	}
	return out
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		cfg   throttle.Config
		field string
	}{
		{"K below 1", throttle.Config{K: 0.5}, "K"},
		{"K negative", throttle.Config{K: -1}, "K"},
		{"K infinite", throttle.Config{K: math.Inf(1)}, "K"},
		{"K NaN", throttle.Config{K: math.NaN()}, "K"},
		{"window negative", throttle.Config{Window: -time.Second}, "Window"},
		{"buckets negative", throttle.Config{Buckets: -1}, "Buckets"},
		{"buckets too many", throttle.Config{Buckets: 1 << 20}, "Buckets"},
		{"buckets too narrow", throttle.Config{Window: 5 * time.Millisecond, Buckets: 10}, "Window"},
		{"min requests negative", throttle.Config{MinRequests: -1}, "MinRequests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name = "bank"
			thr, err := throttle.New(tt.cfg)
			assert.Nil(t, thr)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "throttle", ce.Component)
			assert.Equal(t, "bank", ce.Name)
			assert.Equal(t, tt.field, ce.Field)
		})
	}
}

func TestNeverRefusesWhileAccepted(t *testing.T) {
	thr, _ := newThrottle(t, throttle.Config{K: 1})
	for i := range 1000 {
		p, err := thr.Allow()
		require.NoError(t, err, "call %d", i)
		p.Done(resilience.Success)
	}
	s := thr.Snapshot()
	assert.Equal(t, int64(1000), s.Requests)
	assert.Equal(t, int64(1000), s.Accepts)
	assert.Zero(t, s.RejectionProbability)
}

func TestProbabilityFollowsTheFormula(t *testing.T) {
	tests := []struct {
		name                string
		k                   float64
		successes, failures int
		want                float64
	}{
		{"all accepted", 2, 10, 0, 0},
		{"exactly 1/K accepted", 2, 5, 5, 0},
		{"none accepted", 2, 0, 9, 9.0 / 10},
		{"a quarter accepted", 2, 5, 15, (20.0 - 10) / 21},
		{"K of one", 1, 5, 15, (20.0 - 5) / 21},
		{"K of three", 3, 5, 15, (20.0 - 15) / 21},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			thr, _ := newThrottle(t, throttle.Config{K: tt.k})
			outcomes := append(repeat(resilience.Success, tt.successes), repeat(resilience.Failure, tt.failures)...)
			feed(t, thr, outcomes...)
			s := thr.Snapshot()
			assert.Equal(t, int64(tt.successes+tt.failures), s.Requests)
			assert.Equal(t, int64(tt.successes), s.Accepts)
			assert.InDelta(t, tt.want, s.RejectionProbability, 1e-12)
		})
	}
}

// TestRefusesAtTheFormulaRate asks 2000 throttles, each seeded differently
// and holding a window at probability 0.4, for one call each.
func TestRefusesAtTheFormulaRate(t *testing.T) {
	refused := 0
	for seed := uint64(1); seed <= 2000; seed++ {
		thr, _ := newThrottle(t, throttle.Config{Seed: seed})
		feed(t, thr, resilience.Success, resilience.Failure, resilience.Failure, resilience.Failure)
		require.InDelta(t, 0.4, thr.Snapshot().RejectionProbability, 1e-12)
		if _, err := thr.Allow(); err != nil {
			refused++
		}
	}
	// 800 expected; the standard deviation is about 22.
	assert.InDelta(t, 800, refused, 100)
}

func TestSameSeedSameDecisions(t *testing.T) {
	decisions := func() []bool {
		thr, clk := newThrottle(t, throttle.Config{Seed: 42})
		var out []bool
		for i := range 300 {
			p, err := thr.Allow()
			out = append(out, err == nil)
			if err == nil && i%4 == 0 {
				p.Done(resilience.Success)
			} else {
				p.Done(resilience.Failure)
			}
			clk.Add(10 * time.Millisecond)
		}
		return out
	}
	first := decisions()
	assert.Equal(t, first, decisions())
	assert.Contains(t, first, false, "the run must refuse some calls to prove anything")
}

func TestWindowForgetsOldCalls(t *testing.T) {
	thr, clk := newThrottle(t, throttle.Config{Window: 10 * time.Second, Buckets: 10})
	feed(t, thr, repeat(resilience.Failure, 20)...)
	require.Positive(t, thr.Snapshot().RejectionProbability)
	clk.Add(5 * time.Second)
	assert.Equal(t, int64(20), thr.Snapshot().Requests, "half a window later")
	clk.Add(5 * time.Second)
	s := thr.Snapshot()
	assert.Zero(t, s.Requests, "a whole window later")
	assert.Zero(t, s.RejectionProbability)
	assert.Equal(t, uint64(20), s.Failures, "totals are kept")
}

func TestMinRequests(t *testing.T) {
	thr, _ := newThrottle(t, throttle.Config{MinRequests: 5})
	feed(t, thr, repeat(resilience.Failure, 4)...)
	assert.Zero(t, thr.Snapshot().RejectionProbability, "4 requests, below the minimum")
	feed(t, thr, resilience.Failure)
	assert.InDelta(t, 5.0/6, thr.Snapshot().RejectionProbability, 1e-12)
}

func TestRefusalIsARejection(t *testing.T) {
	thr, _ := newThrottle(t, throttle.Config{Name: "bank", K: 1})
	feed(t, thr, repeat(resilience.Failure, 200)...)
	called := 0
	var err error
	for err == nil {
		err = resilience.Run(context.Background(), func(context.Context) error { called++; return errDown }, thr)
		if errors.Is(err, errDown) {
			err = nil
		}
	}
	require.ErrorIs(t, err, throttle.ErrThrottled)
	assert.True(t, resilience.IsRejected(err))
	r, ok := resilience.AsRejection(err)
	require.True(t, ok)
	assert.Equal(t, "throttle", r.Policy)
	assert.Equal(t, "bank", r.Name)
	assert.Equal(t, resilience.Ignored, resilience.DefaultOutcome(context.Background(), err))
	assert.Equal(t, uint64(1), thr.Snapshot().Throttled)
	assert.Equal(t, uint64(called), thr.Snapshot().Admitted-200)
}

func TestIgnoredCallsCountNothing(t *testing.T) {
	thr, _ := newThrottle(t, throttle.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	err := resilience.Run(ctx, func(context.Context) error {
		cancel()
		return ctx.Err()
	}, thr)
	require.ErrorIs(t, err, context.Canceled)
	err = resilience.Run(context.Background(), func(context.Context) error {
		return resilience.Reject("breaker", "inner", errDown, 0)
	}, thr)
	require.True(t, resilience.IsRejected(err))

	s := thr.Snapshot()
	assert.Zero(t, s.Requests)
	assert.Equal(t, uint64(2), s.Ignored)
	assert.Equal(t, uint64(2), s.Admitted)
}

func TestDoneContextIsNotStarted(t *testing.T) {
	thr, _ := newThrottle(t, throttle.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := resilience.Run(ctx, func(context.Context) error { t.Error("called"); return nil }, thr)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, throttle.Totals{}, thr.Snapshot().Totals)
}

func TestClassifier(t *testing.T) {
	thr, _ := newThrottle(t, throttle.Config{Classifier: func(_ context.Context, err error) resilience.Outcome {
		if errors.Is(err, errDown) {
			return resilience.Success // "down" is an answer here
		}
		return resilience.Unclassified
	}})
	for range 5 {
		_ = resilience.Run(context.Background(), func(context.Context) error { return errDown }, thr)
	}
	p, err := thr.Allow()
	require.NoError(t, err)
	p.DoneErr(context.Background(), errDown)
	assert.Equal(t, int64(6), thr.Snapshot().Accepts)
}

func TestPanicCountsAsFailure(t *testing.T) {
	thr, _ := newThrottle(t, throttle.Config{})
	assert.PanicsWithValue(t, "boom", func() {
		_ = resilience.Run(context.Background(), func(context.Context) error { panic("boom") }, thr)
	})
	s := thr.Snapshot()
	assert.Equal(t, uint64(1), s.Failures)
	assert.Equal(t, int64(1), s.Requests)
}

func TestNilThrottle(t *testing.T) {
	var thr *throttle.Throttle
	err := resilience.Run(context.Background(), func(context.Context) error { t.Error("called"); return nil }, thr)
	assert.ErrorIs(t, err, throttle.ErrNilThrottle)
	_, err = thr.Allow()
	assert.ErrorIs(t, err, throttle.ErrNilThrottle)
	assert.Equal(t, throttle.Snapshot{}, thr.Snapshot())
	assert.Empty(t, thr.Name())
	var p throttle.Permit
	p.Done(resilience.Success) // no-op
	p.DoneErr(context.Background(), nil)
}

// recorder keeps events. TODO(resiliencetest): use resiliencetest.Recorder.
type recorder struct {
	mu     sync.Mutex
	events []resilience.Event
}

func (r *recorder) listen(e resilience.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func TestEvents(t *testing.T) {
	var all, states recorder
	thr, _ := newThrottle(t, throttle.Config{Name: "bank", K: 1, Listeners: resilience.Listeners{
		resilience.OnEvent(all.listen), resilience.OnStateChange(states.listen),
	}})
	feed(t, thr, repeat(resilience.Failure, 50)...)
	for {
		if _, err := thr.Allow(); err != nil {
			break
		}
	}
	require.NotEmpty(t, all.events)
	last := all.events[len(all.events)-1]
	assert.Equal(t, resilience.EventRejection, last.Kind)
	assert.Equal(t, "throttle", last.Policy)
	assert.Equal(t, "bank", last.Name)
	assert.ErrorIs(t, last.Err, throttle.ErrThrottled)
	assert.Equal(t, resilience.EventOutcome, all.events[0].Kind)
	assert.Equal(t, resilience.Failure, all.events[0].Outcome)
	assert.Empty(t, states.events, "a state-change listener hears no per-call event")
}
