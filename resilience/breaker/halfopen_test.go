package breaker_test

import (
	"context"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// How MaxHalfOpen ends half-open: only a probe still outstanding a
// MaxHalfOpen after the latest admission re-opens the breaker. The payment
// simulation (payments/dst, findings half-open-idle-reopens and
// half-open-probes-all-cancelled) found the earlier rule — any half-open
// lasting MaxHalfOpen re-opens — refusing an idle healthy dependency for
// good, each idle period growing the wait.

// doublingWait makes every re-opening wait twice the last, so a re-opening
// shows in the snapshot's OpenWait.
type doublingWait struct{}

func (doublingWait) Delay(_ int, prev time.Duration) time.Duration { return 2 * prev }

func halfOpenBreaker(t *testing.T) (*breaker.Breaker, *clock.Mock) {
	t.Helper()
	b, clk := newBreaker(t, breaker.Config{
		ConsecutiveFailures: 1, OpenWait: time.Second, OpenBackoff: doublingWait{},
		MaxOpenWait: time.Hour, MaxHalfOpen: 5 * time.Second,
	})
	call(b, resilience.Failure)
	clk.Add(time.Second)
	require.Equal(t, breaker.HalfOpen, b.State())
	return b, clk
}

func TestIdleHalfOpenDoesNotReopen(t *testing.T) {
	b, clk := halfOpenBreaker(t)
	for range 3 {
		clk.Add(5 * time.Second)
		require.Equal(t, breaker.HalfOpen, b.State(), "no probe was sent: nothing failed")
	}
	s := b.Snapshot()
	assert.Zero(t, s.Reopens, "reopens")
	assert.Equal(t, time.Second, s.OpenWait, "the open wait did not grow")

	probe := allow(t, b)
	probe.Done(resilience.Success)
	assert.Equal(t, breaker.Closed, b.State(), "the first call after the idle spell probes and closes")
}

func TestCancelledProbesDoNotReopen(t *testing.T) {
	b, clk := halfOpenBreaker(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for range 3 {
		probe := allow(t, b)
		clk.Add(4 * time.Second)
		probe.DoneErr(cancelled, cancelled.Err()) // the caller gave up: ignored
		clk.Add(4 * time.Second)
		require.Equal(t, breaker.HalfOpen, b.State(), "every probe was ignored: nothing failed")
	}
	assert.Zero(t, b.Snapshot().Reopens, "reopens")
	probe := allow(t, b)
	probe.Done(resilience.Success)
	assert.Equal(t, breaker.Closed, b.State())
}

// A probe admitted just before the earlier half-open deadline gets a whole
// MaxHalfOpen of its own.
func TestLateProbeGetsAWholeMaxHalfOpen(t *testing.T) {
	b, clk := halfOpenBreaker(t)
	clk.Add(5*time.Second - time.Millisecond)
	probe := allow(t, b)
	clk.Add(5*time.Second - time.Millisecond)
	require.Equal(t, breaker.HalfOpen, b.State())
	probe.Done(resilience.Success)
	assert.Equal(t, breaker.Closed, b.State())
}

// A probe still out a MaxHalfOpen after its admission re-opens, and the
// wait grows, as before: lost probes cannot wedge half-open.
func TestOutstandingProbeReopensAfterMaxHalfOpen(t *testing.T) {
	b, clk := halfOpenBreaker(t)
	clk.Add(3 * time.Second)
	_ = allow(t, b) // never reported
	clk.Add(5*time.Second - time.Nanosecond)
	require.Equal(t, breaker.HalfOpen, b.State())
	clk.Add(time.Nanosecond)
	require.Equal(t, breaker.Open, b.State())
	s := b.Snapshot()
	assert.Equal(t, 1, s.Reopens)
	assert.Equal(t, 2*time.Second, s.OpenWait)
}
