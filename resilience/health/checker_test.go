package health_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

var errDown = errors.New("bank: connection refused")

// script is a probe whose results are set by the test; it records when it ran.
type script struct {
	mu    sync.Mutex
	fail  bool
	times []time.Time
}

func (s *script) probe(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.times = append(s.times, time.Now())
	if s.fail {
		return errDown
	}
	return nil
}

func (s *script) set(fail bool) { s.mu.Lock(); s.fail = fail; s.mu.Unlock() }
func (s *script) ran() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times...)
}

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
		var events []resilience.Event
		c, err := health.New(health.Config{Interval: 10 * time.Second, UnhealthyInterval: 2 * time.Second,
			FailuresToUnhealthy: 3, SuccessesToHealthy: 2,
			Listeners: resilience.Listeners{func(e resilience.Event) {
				if e.Kind == resilience.EventStateChange {
					events = append(events, e)
				}
			}}},
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

		c.Stop() // its Wait orders the listener's writes before the reads below
		times := s.ran()
		require.Len(t, times, 6)
		assert.Equal(t, 2*time.Second, times[4].Sub(times[3]), "probes come faster while unhealthy")
		require.Len(t, events, 3)
		assert.Equal(t, [][2]string{{"unknown", "healthy"}, {"healthy", "unhealthy"}, {"unhealthy", "healthy"}},
			[][2]string{{events[0].From, events[0].To}, {events[1].From, events[1].To}, {events[2].From, events[2].To}})
		assert.True(t, events[1].Degraded)
		assert.Equal(t, "3 consecutive failures", events[1].Reason)
		detail := events[1].Detail.(health.TargetSnapshot)
		assert.Equal(t, 3, detail.ConsecutiveFailures)
	})
}

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
		assert.Contains(t, snap.LastError, "deadline of 1s exceeded")
		assert.Equal(t, uint64(1), snap.Failures)
	})
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

func TestPolicyRejectsWhileUnhealthy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s script
		s.set(true)
		c, _ := health.New(health.Config{Interval: 10 * time.Second, UnhealthyInterval: 4 * time.Second, FailuresToUnhealthy: 1},
			health.Target{Name: "bank", Probe: s.probe})
		p, err := health.Policy[string](c, "bank")
		require.NoError(t, err)
		reached := 0
		call := p.Wrap(func(context.Context) (string, error) { reached++; return "ok", nil })

		_, err = call(context.Background())
		assert.NoError(t, err, "unknown lets calls through")
		require.NoError(t, c.Start())
		defer c.Stop()
		time.Sleep(time.Second) // synctest: fake time
		_, err = call(context.Background())
		assert.ErrorIs(t, err, health.ErrUnhealthy)
		assert.True(t, resilience.IsRejected(err))
		after, ok := resilience.RetryAfter(err)
		assert.True(t, ok)
		assert.Equal(t, 3*time.Second, after, "until the next probe")
		assert.Equal(t, 1, reached)
	})
}

func TestConfigErrors(t *testing.T) {
	probe := func(context.Context) error { return nil }
	tests := []struct {
		name    string
		cfg     health.Config
		targets []health.Target
		want    string
	}{
		{"zero interval", health.Config{}, []health.Target{{Name: "a", Probe: probe}}, "health: Interval must be positive, got 0s"},
		{"timeout ≥ interval", health.Config{Interval: time.Second, Timeout: time.Second}, []health.Target{{Name: "a", Probe: probe}},
			"health: Timeout must be in [0, 1s) (below the shortest interval), got 1s"},
		{"timeout ≥ unhealthy interval", health.Config{Interval: 10 * time.Second, UnhealthyInterval: time.Second, Timeout: 2 * time.Second},
			[]health.Target{{Name: "a", Probe: probe}}, "health: Timeout must be in [0, 1s) (below the shortest interval), got 2s"},
		{"unhealthy interval too long", health.Config{Interval: time.Second, UnhealthyInterval: time.Minute}, []health.Target{{Name: "a", Probe: probe}},
			"health: UnhealthyInterval must be in [0, Interval=1s], got 1m0s"},
		{"jitter", health.Config{Interval: time.Second, Jitter: time.Second}, []health.Target{{Name: "a", Probe: probe}},
			"health: Jitter must be in [0, Interval=1s), got 1s"},
		{"thresholds", health.Config{Interval: time.Second, FailuresToUnhealthy: -1, SuccessesToHealthy: -2}, []health.Target{{Name: "a", Probe: probe}},
			"health: FailuresToUnhealthy must be at least 1, got -1\nhealth: SuccessesToHealthy must be at least 1, got -2"},
		{"no targets", health.Config{Interval: time.Second}, nil, "health: at least one Target is required"},
		{"duplicate names", health.Config{Interval: time.Second}, []health.Target{{Name: "a", Probe: probe}, {Name: "a", Probe: probe}},
			`health: duplicate Target name "a"`},
		{"missing name and probe", health.Config{Interval: time.Second}, []health.Target{{}},
			"health: Target 1 has no Name\nhealth: Target \"\" has no Probe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := health.New(tt.cfg, tt.targets...)
			assert.Nil(t, c)
			assert.EqualError(t, err, tt.want)
		})
	}
	c, _ := health.New(health.Config{Interval: time.Second}, health.Target{Name: "a", Probe: probe})
	_, err := c.Probe(context.Background(), "nope")
	assert.ErrorIs(t, err, health.ErrUnknownTarget)
	_, err = health.Policy[int](c, "nope")
	assert.ErrorIs(t, err, health.ErrUnknownTarget)
	_, err = health.Policy[int](nil, "a")
	assert.Error(t, err)
	assert.Equal(t, health.Unknown, c.Status("nope"))
}

// The status flips only after the configured number of consecutive results.
func TestHysteresisModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := rapid.IntRange(1, 5).Draw(t, "FailuresToUnhealthy")
		s := rapid.IntRange(1, 5).Draw(t, "SuccessesToHealthy")
		var next error
		var changes []resilience.Event
		outcomes := 0
		c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: f, SuccessesToHealthy: s,
			Listeners: resilience.Listeners{func(e resilience.Event) {
				switch e.Kind {
				case resilience.EventStateChange:
					changes = append(changes, e)
				case resilience.EventOutcome:
					outcomes++
				}
			}}},
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
				n := len(changes)
				st, err := c.Probe(context.Background(), "x")
				require.NoError(t, err)
				require.Equal(t, model, st)
				if before != model {
					require.Len(t, changes, n+1, "one event per change")
					require.Equal(t, before.String(), changes[n].From)
					require.Equal(t, model.String(), changes[n].To)
				} else {
					require.Len(t, changes, n, "no event without a change")
				}
			},
			"": func(t *rapid.T) {
				snap := c.Snapshot()[0]
				require.Equal(t, model, snap.Status)
				require.Equal(t, uint64(probes), snap.Probes)
				require.Equal(t, probes, outcomes, "one outcome event per probe")
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
		var changes []resilience.Event
		c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 2, SuccessesToHealthy: 2,
			Listeners: resilience.Listeners{func(e resilience.Event) {
				if e.Kind == resilience.EventStateChange {
					changes = append(changes, e)
				}
			}}},
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
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, _ = c.Probe(context.Background(), "x")
			}()
		}
		close(start)
		wg.Wait()
		assert.Equal(t, int32(1), maxInside.Load(), "probes of one target never overlap")
		snap := c.Snapshot()[0]
		assert.Equal(t, uint64(len(results)), snap.Probes)
		prev := "unknown"
		for _, e := range changes {
			assert.Equal(t, prev, e.From, "events form a path")
			assert.NotEqual(t, e.From, e.To)
			prev = e.To
		}
		assert.Equal(t, snap.Status.String(), prev, "the path ends in the final status")
	})
}
