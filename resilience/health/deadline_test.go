package health_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProbeTimeoutIsAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
		c, err := health.New(health.Config{Interval: 10 * time.Second, Timeout: time.Second, FailuresToUnhealthy: 1},
			health.Target{Name: "fx", Probe: hang})
		require.NoError(t, err)
		start := time.Now()
		st, err := c.Probe(context.Background(), "fx")
		require.NoError(t, err)
		assert.Equal(t, time.Second, time.Since(start))
		assert.Equal(t, health.Unhealthy, st)
		snap := c.Snapshot()[0]
		assert.Equal(t, `health: probe of "fx" timed out after 1s`, snap.LastError)
		assert.Equal(t, uint64(1), snap.Failures)
		assert.Equal(t, time.Second, snap.LastProbeDuration)
	})
}

// derived is what a probe's HTTP or SQL client sees: a context derived from
// the probe's.
type derived struct {
	err, cause error
	deadline   bool
}

func deriving(entered chan<- struct{}, seen chan<- derived) func(context.Context) error {
	return func(ctx context.Context) error {
		dctx, cancel := context.WithCancel(ctx)
		defer cancel()
		entered <- struct{}{}
		<-dctx.Done()
		_, ok := dctx.Deadline()
		seen <- derived{err: dctx.Err(), cause: context.Cause(dctx), deadline: ok}
		return dctx.Err()
	}
}

// Issue 12, item 6: with no clock configured the probe runs under the
// runtime's own deadline, so a context the probe derives reports
// DeadlineExceeded, with the probe timeout as its cause.
func TestDerivedContextSeesTheDeadlineOnTheRealClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		entered, seen := make(chan struct{}, 1), make(chan derived, 1)
		c, err := health.New(health.Config{Interval: time.Minute, Timeout: time.Second, FailuresToUnhealthy: 1},
			health.Target{Name: "bank", Probe: deriving(entered, seen)})
		require.NoError(t, err)
		_, err = c.Probe(context.Background(), "bank")
		require.NoError(t, err)
		<-entered
		got := <-seen
		assert.ErrorIs(t, got.err, context.DeadlineExceeded)
		assert.ErrorIs(t, got.cause, health.ErrProbeTimeout)
		assert.True(t, got.deadline)
		assert.Equal(t, health.Unhealthy, c.Status("bank"))

		var probeCtx context.Context
		c, err = health.New(health.Config{Interval: time.Minute, Timeout: time.Second},
			health.Target{Name: "bank", Probe: func(ctx context.Context) error { probeCtx = ctx; return nil }})
		require.NoError(t, err)
		_, _ = c.Probe(context.Background(), "bank")
		assert.Contains(t, fmt.Sprint(probeCtx), ".WithDeadline(", "the runtime's own deadline context: the fast path")
	})
}

// The same with an injected clock.
func TestDerivedContextSeesTheDeadlineOnAMockClock(t *testing.T) {
	mock := clock.NewMock()
	entered, seen := make(chan struct{}, 1), make(chan derived, 1)
	c, err := health.New(health.Config{Interval: time.Minute, Timeout: time.Second, FailuresToUnhealthy: 1, Clock: mock},
		health.Target{Name: "bank", Probe: deriving(entered, seen)})
	require.NoError(t, err)
	done := make(chan health.Status)
	go func() {
		st, _ := c.Probe(context.Background(), "bank")
		done <- st
	}()
	<-entered
	mock.Add(999 * time.Millisecond)
	select {
	case <-seen:
		t.Fatal("the deadline fired early")
	default:
	}
	mock.Add(time.Millisecond)
	got := <-seen
	assert.ErrorIs(t, got.err, context.DeadlineExceeded)
	assert.False(t, errors.Is(got.err, context.Canceled))
	assert.ErrorIs(t, got.cause, health.ErrProbeTimeout)
	assert.True(t, got.deadline)
	assert.Equal(t, health.Unhealthy, <-done)
	snap := c.Snapshot()[0]
	assert.Equal(t, `health: probe of "bank" timed out after 1s`, snap.LastError)
	assert.Equal(t, time.Second, snap.LastProbeDuration)
}

// On the mock clock the probe's context ends with the caller's, and with
// Canceled (not DeadlineExceeded) when the probe returns first.
func TestMockClockContextEndsWithTheCaller(t *testing.T) {
	mock := clock.NewMock()
	entered, seen := make(chan struct{}, 1), make(chan derived, 1)
	c, err := health.New(health.Config{Interval: time.Minute, Timeout: time.Second, Clock: mock},
		health.Target{Name: "bank", Probe: deriving(entered, seen)})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		_, _ = c.Probe(ctx, "bank")
		close(done)
	}()
	<-entered
	cancel()
	got := <-seen
	<-done
	assert.ErrorIs(t, got.err, context.Canceled)
	assert.ErrorIs(t, got.cause, context.Canceled)
	assert.Zero(t, c.Snapshot()[0].Probes, "the caller gave up: not counted")

	var probeCtx context.Context
	c, err = health.New(health.Config{Interval: time.Minute, Timeout: time.Second, Clock: mock},
		health.Target{Name: "bank", Probe: func(ctx context.Context) error { probeCtx = ctx; return nil }})
	require.NoError(t, err)
	_, _ = c.Probe(context.Background(), "bank")
	<-probeCtx.Done()
	assert.ErrorIs(t, probeCtx.Err(), context.Canceled, "released after the probe returned")
	dl, _ := probeCtx.Deadline()
	assert.Equal(t, mock.Now().Add(time.Second), dl, "the deadline is on the injected clock")
}

// Issue 12, item 2: a dependency that answers every probe within the calls'
// timeout stays healthy, even when that is slower than half the interval
// (the old default probe timeout, which held such a bank down for good).
func TestSlowButWorkingDependencyStaysHealthy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := func(ctx context.Context) error {
			select {
			case <-time.After(150 * time.Millisecond):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		c, err := health.New(health.Config{Interval: time.Second, UnhealthyInterval: 250 * time.Millisecond, FailuresToUnhealthy: 2},
			health.Target{Name: "bank", Probe: slow, CallTimeout: 2 * time.Second})
		require.NoError(t, err)
		require.NoError(t, c.Start())
		time.Sleep(time.Minute) // synctest: fake time
		c.Stop()
		snap := c.Snapshot()[0]
		assert.Equal(t, health.Healthy, snap.Status)
		assert.Zero(t, snap.Failures)
		assert.Greater(t, snap.Probes, uint64(40))
	})
}
