package hedge_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/hedge"
)

func TestFastAnswerStartsNoHedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond})
		s := newScript(step{Delay: 10 * time.Millisecond})
		v, took, err := execute(context.Background(), h, s)
		require.NoError(t, err)
		assert.Equal(t, "attempt 0", v)
		assert.Equal(t, 10*time.Millisecond, took)
		time.Sleep(time.Second)
		assert.Equal(t, int64(1), s.started.Load(), "no hedge after the call")
		assert.Equal(t, hedge.Snapshot{Calls: 1, Delay: 50 * time.Millisecond}, h.Snapshot())
	})
}

func TestHedgeWinsAndTheFirstAttemptIsCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond})
		s := newScript(step{Delay: time.Second}, step{Delay: 20 * time.Millisecond})
		v, took, err := execute(context.Background(), h, s)
		require.NoError(t, err)
		assert.Equal(t, "attempt 1", v)
		assert.Equal(t, 70*time.Millisecond, took)
		assert.Equal(t, []int{0}, s.cancelledAttempts())
		synctest.Wait()
		assert.Zero(t, s.live.Load(), "no attempt outlives the call")
		snap := h.Snapshot()
		assert.Equal(t, uint64(1), snap.Hedges)
		assert.Equal(t, uint64(1), snap.HedgeWins)
	})
}

func TestFirstAttemptWinsAndTheHedgeIsCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond})
		s := newScript(step{Delay: 80 * time.Millisecond}, step{Delay: time.Second})
		v, took, err := execute(context.Background(), h, s)
		require.NoError(t, err)
		assert.Equal(t, "attempt 0", v)
		assert.Equal(t, 80*time.Millisecond, took)
		synctest.Wait()
		assert.Equal(t, []int{1}, s.cancelledAttempts())
		assert.Zero(t, s.live.Load(), "the losing hedge ended with the call")
		snap := h.Snapshot()
		assert.Equal(t, uint64(1), snap.Hedges)
		assert.Zero(t, snap.HedgeWins)
	})
}

func TestMaxHedges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 10 * time.Millisecond, MaxHedges: 3})
		s := newScript(step{Delay: time.Second}, step{Delay: time.Second}, step{Delay: time.Second},
			step{Delay: 5 * time.Millisecond}, step{Delay: 0})
		v, took, err := execute(context.Background(), h, s)
		require.NoError(t, err)
		assert.Equal(t, "attempt 3", v)
		assert.Equal(t, 35*time.Millisecond, took)
		synctest.Wait()
		assert.ElementsMatch(t, []int{0, 1, 2}, s.cancelledAttempts())

		s = newScript(step{Delay: time.Second}, step{Delay: time.Second}, step{Delay: time.Second},
			step{Delay: time.Second}, step{Delay: 0})
		_, took, err = execute(context.Background(), h, s)
		require.NoError(t, err)
		assert.Equal(t, time.Second, took, "the first attempt answers first")
		assert.Equal(t, int64(4), s.started.Load(), "three hedges, no more")
	})
}

func TestFailureBeforeTheDelayIsNotHedged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond})
		s := newScript(step{Delay: 10 * time.Millisecond, Err: errBank}, step{Delay: 0})
		_, took, err := execute(context.Background(), h, s)
		require.ErrorIs(t, err, errBank)
		assert.Equal(t, 10*time.Millisecond, took)
		time.Sleep(time.Second)
		assert.Equal(t, int64(1), s.started.Load())
	})
}

func TestNothingSucceedsEndsAsTheFirstAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond, MaxHedges: 3})
		other := resilience.Reject("breaker", "bank", errBank, 0)
		s := newScript(step{Delay: 60 * time.Millisecond, Err: errBank}, step{Delay: 20 * time.Millisecond, Err: other})
		_, took, err := execute(context.Background(), h, s)
		require.ErrorIs(t, err, errBank)
		assert.False(t, resilience.IsRejected(err), "the first attempt's error, not the hedge's")
		assert.Equal(t, 70*time.Millisecond, took, "after the last attempt started has ended")
		time.Sleep(time.Second)
		assert.Equal(t, int64(2), s.started.Load(), "no hedge starts once every attempt has failed")
	})
}

func TestGoodFirstAttemptAfterAFailedHedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond})
		s := newScript(step{Delay: 150 * time.Millisecond}, step{Delay: 10 * time.Millisecond, Err: errBank})
		v, took, err := execute(context.Background(), h, s)
		require.NoError(t, err)
		assert.Equal(t, "attempt 0", v)
		assert.Equal(t, 150*time.Millisecond, took)
	})
}

func TestClassifiersDecideWhatIsGood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond})
		busy := func(_ context.Context, v string, _ error) resilience.Outcome {
			if v == "busy" {
				return resilience.Failure
			}
			return resilience.Unclassified
		}
		p := resilience.NewPipeline[string](h).WithClassifier(busy)
		s := newScript(step{Delay: 80 * time.Millisecond, Value: "busy"}, step{Delay: 100 * time.Millisecond})
		start := time.Now()
		v, err := p.Execute(context.Background(), s.fn)
		require.NoError(t, err)
		assert.Equal(t, "attempt 1", v, "a result judged a failure is not an answer")
		assert.Equal(t, 150*time.Millisecond, time.Since(start))
	})
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond,
			Classifier: func(_ context.Context, err error) resilience.Outcome {
				if err == errBank {
					return resilience.Success // "declined" is an answer
				}
				return resilience.DefaultOutcome(context.Background(), err)
			}})
		s := newScript(step{Delay: time.Second}, step{Delay: 10 * time.Millisecond, Err: errBank})
		_, took, err := execute(context.Background(), h, s)
		require.ErrorIs(t, err, errBank)
		assert.Equal(t, 60*time.Millisecond, took)
	})
}

func TestCallerCancellationEndsEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond, MaxHedges: 2})
		s := newScript(step{Delay: time.Second}, step{Delay: time.Second}, step{Delay: time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
		defer cancel()
		_, took, err := execute(ctx, h, s)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 120*time.Millisecond, took)
		synctest.Wait()
		assert.Zero(t, s.live.Load())
		assert.Equal(t, int64(3), s.started.Load())
	})
}

func TestNoGoroutineLeftBehind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 10 * time.Millisecond, MaxHedges: 3})
		for range 20 {
			s := newScript(step{Delay: 25 * time.Millisecond}, step{Delay: time.Second},
				step{Delay: time.Second}, step{Delay: time.Second})
			_, _, err := execute(context.Background(), h, s)
			require.NoError(t, err)
			synctest.Wait()
			require.Zero(t, s.live.Load(), "every hedge ended with its call")
			time.Sleep(time.Second)
			require.Equal(t, int64(3), s.started.Load(), "no hedge starts after the call")
		}
	})
}

// TestUncooperativeAttempts documents the cost of an attempt that ignores
// its context: a first attempt that does holds the call, and a losing
// hedge that does lives on, alone, until its function returns.
func TestUncooperativeAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond})
		s := newScript(step{Delay: 300 * time.Millisecond, IgnoreCtx: true}, step{Delay: 10 * time.Millisecond})
		v, took, err := execute(context.Background(), h, s)
		require.NoError(t, err)
		assert.Equal(t, "attempt 1", v, "the hedge's answer is still the one taken")
		assert.Equal(t, 300*time.Millisecond, took)

		s = newScript(step{Delay: 80 * time.Millisecond}, step{Delay: 500 * time.Millisecond, IgnoreCtx: true})
		_, took, err = execute(context.Background(), h, s)
		require.NoError(t, err)
		assert.Equal(t, 80*time.Millisecond, took, "a stubborn loser does not hold the call")
		synctest.Wait()
		assert.Equal(t, int64(1), s.live.Load())
		time.Sleep(time.Second)
		assert.Zero(t, s.live.Load())
	})
}

func TestDoneContextIsNotStarted(t *testing.T) {
	h := newHedger(t, hedge.Config{Delay: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := newScript()
	_, _, err := execute(ctx, h, s)
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, s.started.Load())
	assert.Zero(t, h.Snapshot().Calls)
}

func TestNilHedger(t *testing.T) {
	var h *hedge.Hedger
	err := resilience.Run(context.Background(), func(context.Context) error { return nil }, h)
	assert.ErrorIs(t, err, hedge.ErrNilHedger)
	assert.Equal(t, hedge.Snapshot{}, h.Snapshot())
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		cfg   hedge.Config
		field string
	}{
		{"no delay", hedge.Config{}, "Delay"},
		{"negative delay", hedge.Config{Delay: -time.Second}, "Delay"},
		{"quantile 1", hedge.Config{Delay: time.Second, Quantile: 1}, "Quantile"},
		{"quantile negative", hedge.Config{Delay: time.Second, Quantile: -0.5}, "Quantile"},
		{"window negative", hedge.Config{Delay: time.Second, Window: -1}, "Window"},
		{"window too small", hedge.Config{Delay: time.Second, Window: 10}, "Window"},
		{"max hedges negative", hedge.Config{Delay: time.Second, MaxHedges: -1}, "MaxHedges"},
		{"max hedges too many", hedge.Config{Delay: time.Second, MaxHedges: 17}, "MaxHedges"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name = "status"
			h, err := hedge.New(tt.cfg)
			assert.Nil(t, h)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "hedge", ce.Component)
			assert.Equal(t, "status", ce.Name)
			assert.Equal(t, tt.field, ce.Field)
		})
	}
}
