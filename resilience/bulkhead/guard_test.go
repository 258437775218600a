package bulkhead_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

func TestBulkheadGuardReleasesOnReturnAndPanic(t *testing.T) {
	b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	p := resilience.NewPipeline[int](b)
	var inside bulkhead.Snapshot
	v, err := p.Execute(context.Background(), func(context.Context) (int, error) { inside = b.Snapshot(); return 3, nil })
	require.NoError(t, err)
	assert.Equal(t, 3, v)
	assert.Equal(t, 1, inside.InFlight)
	assert.Panics(t, func() {
		_, _ = p.Execute(context.Background(), func(context.Context) (int, error) { panic("boom") })
	})
	assert.Equal(t, 0, b.Snapshot().InFlight, "a panic must release the slot")

	held, _ := b.TryAcquire()
	called := false
	err = resilience.Run(context.Background(), func(context.Context) error { called = true; return nil }, b)
	assert.False(t, called)
	assert.True(t, resilience.IsRejected(err))
	assert.ErrorIs(t, err, bulkhead.ErrFull)
	held.Release()
	assert.Equal(t, 0, b.Snapshot().InFlight)
}

// TestBulkheadGuardQueuesAndShares: one bulkhead serves pipelines of two
// result types; a queued call runs once a slot is freed.
func TestBulkheadGuardQueuesAndShares(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueue: 1})
		require.NoError(t, err)
		hang := resiliencetest.NewBlocking()
		receipts := resilience.NewPipeline[string](b)
		statuses := resilience.NewChain(b)
		first := make(chan error, 1)
		go func() {
			_, err := receipts.Execute(t.Context(), resiliencetest.Func(hang, "receipt"))
			first <- err
		}()
		synctest.Wait()
		second := make(chan error, 1)
		go func() { second <- statuses.Run(t.Context(), func(context.Context) error { return nil }) }()
		synctest.Wait()
		assert.Equal(t, 1, b.Snapshot().Queued)
		hang.Release()
		require.NoError(t, <-first)
		require.NoError(t, <-second)
		assert.Equal(t, bulkhead.Snapshot{MaxConcurrent: 1, MaxQueue: 1, Waited: 1}, b.Snapshot())
	})
}

func TestBulkheadGuardDoesNotStartADoneCall(t *testing.T) {
	b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	op := resiliencetest.FailN(0, nil)
	assert.ErrorIs(t, resilience.Run(ctx, op.Run, b), context.Canceled)
	assert.Zero(t, op.Calls())
	assert.Equal(t, bulkhead.Snapshot{MaxConcurrent: 1}, b.Snapshot(), "neither admitted nor refused")
}

func TestNilGuardsFailClearly(t *testing.T) {
	var b *bulkhead.Bulkhead
	var a *bulkhead.Adaptive
	for _, g := range []resilience.Guard{b, a} {
		op := resiliencetest.FailN(0, nil)
		err := resilience.Run(context.Background(), op.Run, g)
		assert.ErrorIs(t, err, bulkhead.ErrNil)
		assert.Zero(t, op.Calls())
	}
}

func TestAdaptiveGuardJudgesOutcomes(t *testing.T) {
	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Initial: 16, BackoffPercent: 50})
	require.NoError(t, err)
	// A result judged a failure by the pipeline's classifier counts.
	is503 := func(_ context.Context, code int, _ error) resilience.Outcome {
		if code == 503 {
			return resilience.Failure
		}
		return resilience.Unclassified
	}
	p := resilience.NewPipeline[int](a).WithClassifier(resilience.Classify(is503))
	v, err := p.Execute(context.Background(), func(context.Context) (int, error) { return 503, nil })
	require.NoError(t, err)
	assert.Equal(t, 503, v)
	assert.Equal(t, 8, a.Snapshot().Limit, "a 503 without error is a failure")
	// An error is a failure; a panic too, and it frees its slot.
	err = resilience.Run(context.Background(), resiliencetest.FailN(1, nil).Run, a)
	assert.ErrorIs(t, err, resiliencetest.ErrInjected)
	assert.Equal(t, 4, a.Snapshot().Limit)
	assert.PanicsWithValue(t, "boom", func() {
		_ = resilience.Run(context.Background(), func(context.Context) error { panic("boom") }, a)
	})
	s := a.Snapshot()
	assert.Equal(t, 2, s.Limit, "a panic is a failure")
	assert.Equal(t, 0, s.InFlight)
	// The caller's own cancellation says nothing about the dependency.
	ctx, cancel := context.WithCancel(context.Background())
	err = resilience.Run(ctx, func(context.Context) error { cancel(); return ctx.Err() }, a)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, uint64(3), a.Snapshot().Drops)
}

// TestAdaptiveGuardDoesNotStartADoneCall: a call whose deadline passed
// before it began is neither run nor judged (issue 12 item 8).
func TestAdaptiveGuardDoesNotStartADoneCall(t *testing.T) {
	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Initial: 4, Max: 4})
	require.NoError(t, err)
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	op := resiliencetest.FailN(0, nil)
	assert.ErrorIs(t, resilience.Run(ctx, op.Run, a), context.DeadlineExceeded)
	assert.Zero(t, op.Calls())
	assert.Equal(t, bulkhead.AdaptiveSnapshot{Limit: 4, Min: 1, Max: 4}, a.Snapshot())
}

func TestAdaptiveGuardClassifierAndLatency(t *testing.T) {
	mock := clock.NewMock()
	notFound := errors.New("not found")
	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{
		Initial: 10, BackoffPercent: 50, LatencyTarget: 100 * time.Millisecond, Clock: mock,
		Classifier: func(_ context.Context, err error) resilience.Outcome {
			if errors.Is(err, notFound) {
				return resilience.Success
			}
			return resilience.Unclassified // the default decides
		},
	})
	require.NoError(t, err)
	err = resilience.Run(context.Background(), func(context.Context) error { return notFound }, a)
	assert.ErrorIs(t, err, notFound)
	assert.Zero(t, a.Snapshot().Drops, "an answer the classifier calls a success")
	err = resilience.Run(context.Background(), func(context.Context) error { mock.Add(150 * time.Millisecond); return nil }, a)
	require.NoError(t, err)
	s := a.Snapshot()
	assert.Equal(t, uint64(1), s.Drops, "a success slower than the target is a drop")
	assert.Equal(t, 5, s.Limit)
	_ = resilience.Run(context.Background(), func(context.Context) error { return errors.New("bank: 502") }, a)
	assert.Equal(t, uint64(2), a.Snapshot().Drops, "Unclassified falls back to the default: a failure")
}

func TestAdaptiveGuardRefusesOverTheLimit(t *testing.T) {
	rec := resiliencetest.NewRecorder()
	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Initial: 1, Max: 1, Name: "bank", Listeners: resilience.Listeners{rec.Listener()}})
	require.NoError(t, err)
	p, err := a.Acquire()
	require.NoError(t, err)
	op := resiliencetest.FailN(0, nil)
	err = resilience.Run(context.Background(), op.Run, a)
	assert.ErrorIs(t, err, bulkhead.ErrOverLimit)
	assert.Zero(t, op.Calls())
	rej, ok := resilience.AsRejection(err)
	require.True(t, ok)
	assert.Equal(t, resilience.Rejection{Policy: "adaptive", Name: "bank", Reason: bulkhead.ErrOverLimit}, rej)
	assert.Equal(t, []resilience.EventKind{resilience.EventRejection}, rec.Kinds())
	p.Done(resilience.Success)
}
