package health_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestScheduleStaysWithinJitterBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s script
		const interval, jitter = 10 * time.Second, 2 * time.Second
		c, err := health.New(health.Config{Interval: interval, Jitter: jitter, Rand: rand.New(rand.NewPCG(7, 7))},
			health.Target{Name: "bank", Probe: s.probe})
		require.NoError(t, err)
		start := time.Now()
		require.NoError(t, c.Start())
		time.Sleep(2 * time.Minute) // synctest: fake time
		c.Stop()

		times := s.ran()
		require.GreaterOrEqual(t, len(times), 10)
		first := times[0].Sub(start)
		assert.True(t, first >= 0 && first <= jitter, "first probe after %s, want within [0, %s]", first, jitter)
		distinct := map[time.Duration]bool{}
		for i := 1; i < len(times); i++ {
			gap := times[i].Sub(times[i-1])
			distinct[gap] = true
			assert.True(t, gap >= interval && gap <= interval+jitter, "gap %d is %s, want within [%s, %s]", i, gap, interval, interval+jitter)
		}
		assert.Greater(t, len(distinct), 1, "jitter actually varies the gaps")
	})
}

func TestThresholdsAndFasterIntervalWhileUnhealthy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s script
		rec := resiliencetest.NewRecorder()
		c, err := health.New(health.Config{Interval: 10 * time.Second, UnhealthyInterval: 2 * time.Second,
			FailuresToUnhealthy: 3, SuccessesToHealthy: 2, Listeners: resilience.Listeners{rec.Listener()}},
			health.Target{Name: "bank", Probe: s.probe, Critical: true})
		require.NoError(t, err)
		assert.Equal(t, health.Unknown, c.Status("bank"))
		assert.False(t, c.Ready(), "unknown is not ready")
		require.NoError(t, c.Start())

		time.Sleep(time.Second) // first probe at t=0 (no jitter) (synctest: fake time)
		assert.Equal(t, health.Healthy, c.Status("bank"))
		assert.True(t, c.Ready())

		s.set(true)
		time.Sleep(20 * time.Second) // failures at 10s, 20s: still healthy (synctest: fake time)
		assert.Equal(t, health.Healthy, c.Status("bank"))
		time.Sleep(10 * time.Second) // third failure at 30s (synctest: fake time)
		assert.Equal(t, health.Unhealthy, c.Status("bank"))
		assert.False(t, c.Ready())

		s.set(false)
		time.Sleep(2 * time.Second) // 32s: one success, faster interval (synctest: fake time)
		assert.Equal(t, health.Unhealthy, c.Status("bank"))
		time.Sleep(2 * time.Second) // 34s: second success (synctest: fake time)
		assert.Equal(t, health.Healthy, c.Status("bank"))

		c.Stop()
		times := s.ran()
		require.Len(t, times, 6)
		assert.Equal(t, 2*time.Second, times[4].Sub(times[3]), "probes come faster while unhealthy")
		assert.Equal(t, []string{"unknown->healthy", "healthy->unhealthy", "unhealthy->healthy"}, rec.StateChanges())
		assert.Equal(t, 6, rec.Count(resilience.EventOutcome), "one outcome per probe")
		var changes []resilience.Event
		for _, e := range rec.Events() {
			if e.Kind == resilience.EventStateChange {
				changes = append(changes, e)
			}
		}
		require.Len(t, changes, 3)
		assert.True(t, changes[1].Degraded)
		assert.Equal(t, "3 consecutive failures", changes[1].Reason)
		detail := changes[1].Detail.(health.TargetSnapshot)
		assert.Equal(t, 3, detail.ConsecutiveFailures)
		assert.True(t, detail.NextProbe.Equal(times[3].Add(2*time.Second)),
			"the change carries the plan: next probe 2s after the failure at 30s, got %s", detail.NextProbe)
	})
}

// A listener of state changes only gets no per-probe events, and the
// probe path builds none for it.
func TestStateChangeListenerGetsNoOutcomes(t *testing.T) {
	var kinds []resilience.EventKind
	c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1,
		Listeners: resilience.Listeners{resilience.OnStateChange(func(e resilience.Event) { kinds = append(kinds, e.Kind) })}},
		health.Target{Name: "x", Probe: down})
	require.NoError(t, err)
	for range 3 {
		_, err = c.Probe(context.Background(), "x")
		require.NoError(t, err)
	}
	assert.Equal(t, []resilience.EventKind{resilience.EventStateChange}, kinds)
	assert.Equal(t, 0.0, testing.AllocsPerRun(50, func() { _, _ = c.Probe(context.Background(), "x") })-
		allocsWithoutListeners(t), "a state-change listener costs a probe nothing over no listener")
}

func allocsWithoutListeners(t *testing.T) float64 {
	c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1}, health.Target{Name: "x", Probe: down})
	require.NoError(t, err)
	_, _ = c.Probe(context.Background(), "x")
	return testing.AllocsPerRun(50, func() { _, _ = c.Probe(context.Background(), "x") })
}

func TestStopCancelsAProbeInFlightAndLeavesNothingBehind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		entered := make(chan struct{}, 1)
		hang := func(ctx context.Context) error {
			entered <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}
		c, err := health.New(health.Config{Interval: time.Minute, Timeout: 30 * time.Second},
			health.Target{Name: "log", Probe: hang})
		require.NoError(t, err)
		require.NoError(t, c.Start())
		assert.EqualError(t, c.Start(), "health: Checker already started")
		<-entered
		c.Stop() // returns at once: the probe honours ctx
		snap := c.Snapshot()[0]
		assert.Zero(t, snap.Probes, "a probe cut short by Stop says nothing about the target")
		assert.True(t, snap.NextProbe.IsZero())
		c.Stop() // no-op

		require.NoError(t, c.Start()) // restartable
		<-entered
		c.Stop()
		// synctest.Test fails if any loop goroutine were left running.
	})
}

// A probe refused by a policy it goes through (a rejection) could not
// confirm health: it is a failure, and the loop keeps its schedule rather
// than probing again at once, forever.
func TestRejectedProbeIsAFailureAndKeepsTheSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		probes := 0
		c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 2},
			health.Target{Name: "bank", Probe: func(context.Context) error {
				probes++
				return resilience.Reject("ratelimit", "bank", nil, time.Second)
			}})
		require.NoError(t, err)
		require.NoError(t, c.Start())
		time.Sleep(10*time.Second + time.Millisecond) // synctest: fake time
		c.Stop()
		assert.Equal(t, 11, probes, "one probe per interval, at 0s…10s")
		assert.Equal(t, health.Unhealthy, c.Status("bank"))
	})
}

func TestLookupTellsAnUnknownNameApart(t *testing.T) {
	c, err := health.New(health.Config{Interval: time.Second}, health.Target{Name: "a", Probe: healthy, Critical: true})
	require.NoError(t, err)
	s, ok := c.Lookup("a")
	assert.True(t, ok)
	assert.Equal(t, "a", s.Name)
	assert.True(t, s.Critical)
	assert.Equal(t, 500*time.Millisecond, s.ProbeTimeout)
	_, ok = c.Lookup("nope")
	assert.False(t, ok)
	assert.Equal(t, health.Unknown, c.Status("nope"))
	_, err = c.Probe(context.Background(), "nope")
	assert.ErrorIs(t, err, health.ErrUnknownTarget)

	var nilChecker *health.Checker
	_, ok = nilChecker.Lookup("a")
	assert.False(t, ok)
	assert.Empty(t, nilChecker.Snapshot())
	assert.True(t, nilChecker.Ready(), "no critical target")
	_, err = nilChecker.Probe(context.Background(), "a")
	assert.ErrorIs(t, err, health.ErrUnknownTarget)
}

// The status flips only after the configured number of consecutive results.
func TestHysteresisModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := rapid.IntRange(1, 5).Draw(t, "FailuresToUnhealthy")
		s := rapid.IntRange(1, 5).Draw(t, "SuccessesToHealthy")
		var next error
		rec := resiliencetest.NewRecorder()
		c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: f, SuccessesToHealthy: s,
			Listeners: resilience.Listeners{rec.Listener()}},
			health.Target{Name: "x", Probe: func(context.Context) error { return next }})
		require.NoError(t, err)
		model, fails, oks, probes := health.Unknown, 0, 0, 0
		t.Repeat(map[string]func(*rapid.T){
			"probe": func(t *rapid.T) {
				next = nil
				if rapid.Bool().Draw(t, "fail") {
					next = errDown
				}
				before := model
				if next != nil {
					fails, oks = fails+1, 0
					if model != health.Unhealthy && fails >= f {
						model = health.Unhealthy
					}
				} else {
					oks, fails = oks+1, 0
					if model == health.Unknown || (model == health.Unhealthy && oks >= s) {
						model = health.Healthy
					}
				}
				probes++
				n := len(rec.StateChanges())
				st, err := c.Probe(context.Background(), "x")
				require.NoError(t, err)
				require.Equal(t, model, st)
				changes := rec.StateChanges()
				if before != model {
					require.Len(t, changes, n+1, "one event per change")
					require.Equal(t, before.String()+"->"+model.String(), changes[n])
				} else {
					require.Len(t, changes, n, "no event without a change")
				}
			},
			"": func(t *rapid.T) {
				snap := c.Snapshot()[0]
				require.Equal(t, model, snap.Status)
				require.Equal(t, uint64(probes), snap.Probes)
				require.Equal(t, probes, rec.Count(resilience.EventOutcome), "one outcome event per probe")
				require.Equal(t, fails, snap.ConsecutiveFailures)
				require.Equal(t, oks, snap.ConsecutiveSuccesses)
			},
		})
	})
}

// Probes started from many goroutines at once never overlap, each is
// recorded, and listeners see a legal path of statuses.
func TestConcurrentProbesNeverOverlap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		results := rapid.SliceOfN(rapid.Bool(), 1, 64).Draw(t, "results")
		var inside, maxInside, next atomic.Int32
		rec := resiliencetest.NewRecorder()
		c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 2, SuccessesToHealthy: 2,
			Listeners: resilience.Listeners{rec.Listener()}},
			health.Target{Name: "x", Probe: func(context.Context) error {
				n := inside.Add(1)
				defer inside.Add(-1)
				if n > maxInside.Load() {
					maxInside.Store(n)
				}
				if results[int(next.Add(1)-1)%len(results)] {
					return errDown
				}
				return nil
			}})
		require.NoError(t, err)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range results {
			wg.Go(func() {
				<-start
				_, _ = c.Probe(context.Background(), "x")
			})
		}
		close(start)
		wg.Wait()
		assert.Equal(t, int32(1), maxInside.Load(), "probes of one target never overlap")
		snap := c.Snapshot()[0]
		assert.Equal(t, uint64(len(results)), snap.Probes)
		prev := "unknown"
		for _, ch := range rec.StateChanges() {
			from, to, _ := strings.Cut(ch, "->")
			assert.Equal(t, prev, from, "events form a path")
			assert.NotEqual(t, from, to)
			prev = to
		}
		assert.Equal(t, snap.Status.String(), prev, "the path ends in the final status")
	})
}
