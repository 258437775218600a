package dashboard_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/dashboard"
	"github.com/riprap-go/riprap/resilience/health"
)

// TestListenerSeesWhatSamplingMisses trips a breaker and lets it recover
// between two samples. The dashboard given the breaker's events sees every
// state, the half-open instant included; the one sampling only sees the
// breaker closed again, in a later generation.
func TestListenerSeesWhatSamplingMisses(t *testing.T) {
	clk := mockClock()
	reg := &breaker.Registry{}
	heard, err := dashboard.New(dashboard.Config{Registry: reg, Clock: clk})
	require.NoError(t, err)
	sampled, err := dashboard.New(dashboard.Config{Registry: reg, Clock: clk})
	require.NoError(t, err)
	bank := newBreaker(t, reg, "bank", breaker.Config{Clock: clk, OpenWait: time.Second}, heard.Listener())
	heard.Snapshot()
	sampled.Snapshot()

	clk.Add(time.Second)
	fail(t, bank)
	clk.Add(time.Second)
	succeed(t, bank) // admitted as the probe: half-open, then closed at once

	tl := timelineOf(t, heard.Snapshot(), "bank")
	assert.Equal(t, []string{"closed", "open", "half_open", "closed"}, states(tl))
	assert.Equal(t, []time.Time{t0, t0.Add(time.Second), t0.Add(2 * time.Second), t0.Add(2 * time.Second)},
		[]time.Time{tl[0].At, tl[1].At, tl[2].At, tl[3].At}, "exact times, from the breaker")
	assert.Equal(t, "open wait elapsed", tl[2].Reason)

	tl = timelineOf(t, sampled.Snapshot(), "bank")
	assert.Equal(t, []string{"closed", "closed"}, states(tl), "sampling sees a later generation only")
	assert.Equal(t, []uint64{0, 3}, []uint64{tl[0].Seq, tl[1].Seq})
}

// TestSamplingFindsChanges: without the listener, each sample records the
// state it finds, at the time the breaker entered it.
func TestSamplingFindsChanges(t *testing.T) {
	clk := mockClock()
	reg := &breaker.Registry{}
	d, err := dashboard.New(dashboard.Config{Registry: reg, Clock: clk})
	require.NoError(t, err)
	bank := newBreaker(t, reg, "bank", breaker.Config{Clock: clk})
	d.Snapshot()
	clk.Add(3 * time.Second)
	bank.ForceOpen()
	clk.Add(time.Second)

	tl := timelineOf(t, d.Snapshot(), "bank")
	require.Equal(t, []string{"closed", "forced_open"}, states(tl))
	assert.Equal(t, t0.Add(3*time.Second), tl[1].At, "the time the breaker entered the state, not the sample's")
	assert.Empty(t, tl[1].Reason, "a sample does not know why")
}

func TestListenerIgnoresWhatItDoesNotShow(t *testing.T) {
	clk := mockClock()
	d, err := dashboard.New(dashboard.Config{Registry: &breaker.Registry{}, Clock: clk})
	require.NoError(t, err)
	stray := newBreaker(t, &breaker.Registry{}, "stray", breaker.Config{Clock: clk}, d.Listener())
	stray.ForceOpen()
	assert.Empty(t, d.Snapshot().Breakers)
}

// TestBreakersComeAndGo: the registry is read afresh at every sample, and
// a breaker removed from it loses its timeline.
func TestBreakersComeAndGo(t *testing.T) {
	clk := mockClock()
	reg := &breaker.Registry{}
	extra, err := breaker.New(breaker.Config{Name: "extra", Clock: clk})
	require.NoError(t, err)
	shadow, err := breaker.New(breaker.Config{Name: "bank", Clock: clk})
	require.NoError(t, err)
	d, err := dashboard.New(dashboard.Config{Registry: reg, Breakers: []*breaker.Breaker{nil, extra, shadow}, Clock: clk})
	require.NoError(t, err)
	bank := newBreaker(t, reg, "bank", breaker.Config{Clock: clk})
	bank.ForceOpen()
	s := d.Snapshot()
	require.Len(t, s.Breakers, 2, "a configured breaker named like a registered one is left out")
	assert.Equal(t, breaker.ForcedOpen, s.Breakers[0].Snapshot.State, "the registry's bank")
	assert.Equal(t, "extra", s.Breakers[1].Snapshot.Name)

	reg.Remove("bank")
	s = d.Snapshot()
	require.Len(t, s.Breakers, 2, "the configured bank shows once the registry's is gone")
	assert.Equal(t, breaker.Closed, s.Breakers[0].Snapshot.State)
	assert.Equal(t, []string{"closed"}, states(timelineOf(t, s, "bank")), "a fresh timeline, not the removed breaker's")
}

// TestHistoryBound drives a breaker through more transitions than a
// timeline keeps, then lets the history pass.
func TestHistoryBound(t *testing.T) {
	clk := mockClock()
	reg := &breaker.Registry{}
	d, err := dashboard.New(dashboard.Config{Registry: reg, Clock: clk, History: time.Minute})
	require.NoError(t, err)
	bank := newBreaker(t, reg, "bank", breaker.Config{Clock: clk}, d.Listener())
	for range dashboard.MaxTransitions {
		clk.Add(100 * time.Millisecond)
		bank.ForceOpen()
		bank.Reset()
	}
	tl := timelineOf(t, d.Snapshot(), "bank")
	require.Len(t, tl, dashboard.MaxTransitions)
	assert.Equal(t, "closed", tl[len(tl)-1].State)
	assert.Equal(t, uint64(2*dashboard.MaxTransitions), tl[len(tl)-1].Seq, "the newest transitions are the ones kept")

	// The last round was at +25.6s, the one before at +25.5s.
	clk.Add(time.Minute - 50*time.Millisecond)
	tl = timelineOf(t, d.Snapshot(), "bank")
	assert.Equal(t, []string{"closed", "forced_open", "closed"}, states(tl),
		"only the last minute and the state in force at its start")
	assert.Equal(t, uint64(2*dashboard.MaxTransitions-2), tl[0].Seq)
	clk.Add(time.Second)
	tl = timelineOf(t, d.Snapshot(), "bank")
	require.Len(t, tl, 1, "the state in force stays")
	assert.Equal(t, "closed", tl[0].State)
}

// TestHealthTimeline: a checker's targets get timelines like breakers. The
// checker takes the dashboard's listener, so it is added after New.
func TestHealthTimeline(t *testing.T) {
	clk := mockClock()
	down := errors.New("down")
	var probeErr error
	probe := func(context.Context) error { return probeErr }
	d, err := dashboard.New(dashboard.Config{Clock: clk})
	require.NoError(t, err)
	chk, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1, Clock: clk,
		Listeners: resilience.Listeners{d.Listener()}}, health.Target{Name: "bank", Probe: probe})
	require.NoError(t, err)
	d.Add(dashboard.Config{Health: chk})

	d.Snapshot()
	clk.Add(time.Second)
	st, err := chk.Probe(context.Background(), "bank")
	require.NoError(t, err)
	require.Equal(t, health.Healthy, st)
	clk.Add(time.Second)
	probeErr = down
	st, err = chk.Probe(context.Background(), "bank")
	require.NoError(t, err)
	require.Equal(t, health.Unhealthy, st)

	s := d.Snapshot()
	require.Len(t, s.Health, 1)
	tl := s.Health[0].Timeline
	assert.Equal(t, []string{"unknown", "healthy", "unhealthy"}, states(tl))
	assert.Equal(t, t0.Add(2*time.Second), tl[2].At)
	assert.Equal(t, uint64(t0.Add(2*time.Second).UnixMicro()), tl[2].Seq)
	assert.Equal(t, "1 consecutive failures", tl[2].Reason)
}
