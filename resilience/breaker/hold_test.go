package breaker_test

import (
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

// Holds by an outside signal (a health check), and how they yield to a
// person's manual states.

// stateChanges returns the recorded state changes as from, to, reason.
func stateChanges(rec *resiliencetest.Recorder) [][3]string {
	var got [][3]string
	for _, e := range rec.Events() {
		if e.Kind == resilience.EventStateChange {
			got = append(got, [3]string{e.From, e.To, e.Reason})
		}
	}
	return got
}

func mustRetryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	d, _ := resilience.RetryAfter(err)
	return d
}

func TestHoldOpenAndRelease(t *testing.T) {
	rec := resiliencetest.NewRecorder()
	b, clk := newBreaker(t, breaker.Config{Name: "bank", Listeners: resilience.Listeners{rec.Listener()}})

	require.True(t, b.HoldOpen("health: 3 consecutive failures", 2*time.Second))
	assert.Equal(t, breaker.HeldOpen, b.State())
	_, err := b.Allow()
	require.ErrorIs(t, err, breaker.ErrOpen)
	after, ok := resilience.RetryAfter(err)
	assert.True(t, ok)
	assert.Equal(t, 2*time.Second, after, "the retry-after is the next probe")

	clk.Add(time.Second)
	assert.Equal(t, time.Second, mustRetryAfter(t, err), "computed when asked")
	require.True(t, b.HoldOpen("health: still failing", 5*time.Second), "a refresh")
	_, err = b.Allow()
	assert.Equal(t, 5*time.Second, mustRetryAfter(t, err))
	assert.Equal(t, 5*time.Second, b.Snapshot().HoldRemaining)
	clk.Add(time.Hour)
	assert.Equal(t, breaker.HeldOpen, b.State(), "held until released, not until a wait elapses")
	assert.Zero(t, mustRetryAfter(t, err), "a hold past its expected release says nothing")

	require.True(t, b.Release("health: recovered", false))
	assert.Equal(t, breaker.HalfOpen, b.State())
	p, err := b.Allow()
	require.NoError(t, err, "real traffic confirms the recovery")
	p.Done(resilience.Success)

	got := stateChanges(rec)
	require.Len(t, got, 3, "a refresh makes no event")
	assert.Equal(t, [3]string{"closed", "held_open", "health: 3 consecutive failures"}, got[0])
	assert.Equal(t, [3]string{"held_open", "half_open", "health: recovered"}, got[1])
	assert.Equal(t, "half_open->closed", rec.StateChanges()[2])
}

// A hold reads as held_open everywhere a forced open reads forced_open:
// State, Snapshot, its JSON and log form, the state-change event and the
// rejection.
func TestHeldOpenIsNotForcedOpen(t *testing.T) {
	for _, tt := range []struct {
		name       string
		set        func(*breaker.Breaker)
		want       breaker.State
		retryAfter time.Duration
	}{
		{"held", func(b *breaker.Breaker) { b.HoldOpen("health: down", 3*time.Second) }, breaker.HeldOpen, 3 * time.Second},
		{"forced", (*breaker.Breaker).ForceOpen, breaker.ForcedOpen, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := resiliencetest.NewRecorder()
			b, _ := newBreaker(t, breaker.Config{Name: "bank", Listeners: resilience.Listeners{rec.Listener()}})
			tt.set(b)
			assert.Equal(t, tt.want, b.State())
			s := b.Snapshot()
			assert.Equal(t, tt.want, s.State)
			assert.Equal(t, tt.retryAfter, s.HoldRemaining)
			js, err := s.MarshalJSON()
			require.NoError(t, err)
			assert.Contains(t, string(js), `"state":"`+tt.want.String()+`"`)
			assert.Equal(t, tt.want.String(), s.LogValue().Group()[0].Value.String())

			change := rec.Events()[0]
			assert.Equal(t, "closed", change.From)
			assert.Equal(t, tt.want.String(), change.To)
			assert.True(t, change.Degraded)

			_, err = b.Allow()
			var re *breaker.RejectedError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tt.want, re.State())
			assert.ErrorIs(t, err, breaker.ErrOpen)
			assert.Equal(t, tt.retryAfter, re.RetryAfter())
		})
	}
	assert.Equal(t, slog.KindGroup, breaker.Snapshot{}.LogValue().Kind())
}

func TestReleaseCutsAnOpenWaitShortOrCloses(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Minute})
	call(b, resilience.Failure)
	require.Equal(t, breaker.Open, b.State())
	assert.True(t, b.Release("health: recovered", true))
	assert.Equal(t, breaker.Closed, b.State())

	assert.False(t, b.Release("again", false), "nothing to release in closed")
	call(b, resilience.Failure)
	clk.Add(time.Minute)
	require.Equal(t, breaker.HalfOpen, b.State())
	assert.False(t, b.Release("x", true), "half-open is already trying")
}

func TestHoldNeverOverridesAPerson(t *testing.T) {
	for _, manual := range []struct {
		name string
		set  func(*breaker.Breaker)
		want breaker.State
	}{
		{"forced open", (*breaker.Breaker).ForceOpen, breaker.ForcedOpen},
		{"forced closed", (*breaker.Breaker).ForceClosed, breaker.Disabled},
		{"metrics only", (*breaker.Breaker).MetricsOnly, breaker.MetricsOnly},
	} {
		t.Run(manual.name, func(t *testing.T) {
			b, _ := newBreaker(t, breaker.Config{})
			manual.set(b)
			assert.False(t, b.HoldOpen("health", time.Second))
			assert.False(t, b.Release("health", true))
			assert.Equal(t, manual.want, b.State())
		})
		t.Run(manual.name+" during a hold takes it over", func(t *testing.T) {
			rec := resiliencetest.NewRecorder()
			b, _ := newBreaker(t, breaker.Config{Listeners: resilience.Listeners{rec.Listener()}})
			require.True(t, b.HoldOpen("health", time.Second))
			manual.set(b)
			assert.False(t, b.Release("health: recovered", false), "health cannot undo the person")
			assert.False(t, b.HoldOpen("health: down again", time.Second))
			assert.Equal(t, manual.want, b.State())
			assert.Equal(t, []string{"closed->held_open", "held_open->" + manual.want.String()}, rec.StateChanges())
		})
	}
}

// A health hold must not restart the open-wait growth, since the breaker
// never closed: a flapping dependency must still back off.
func TestHoldKeepsTheOpenWaitGrowing(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Second,
		MaxOpenWait: time.Hour, OpenBackoff: doubling{}})
	fail := func() {
		p := allow(t, b)
		p.Done(resilience.Failure)
	}
	fail()
	clk.Add(time.Second)
	fail() // re-open #1: 2s
	require.Equal(t, 2*time.Second, b.Snapshot().OpenWait)
	require.True(t, b.HoldOpen("health: down", time.Second))
	require.True(t, b.Release("health: up", false))
	fail()
	assert.Equal(t, 4*time.Second, b.Snapshot().OpenWait, "never closed: the sequence goes on")

	b.Reset()
	fail()
	assert.Equal(t, time.Second, b.Snapshot().OpenWait, "closing restarts it")
}

// Holds and releases racing with calls leave a legal path of state changes
// and exact accounting.
func TestHoldReleaseRacingCalls(t *testing.T) {
	rec := resiliencetest.NewRecorder()
	b, _ := newBreaker(t, breaker.Config{Listeners: resilience.Listeners{rec.Listener()}, MaxProbes: 2, SuccessesToClose: 1})
	var wg sync.WaitGroup
	var admitted, rejected sync.Map
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				switch {
				case g == 0 && i%20 == 0:
					b.HoldOpen("health", time.Second)
				case g == 1 && i%20 == 10:
					b.Release("health", i%40 == 10)
				default:
					p, err := b.Allow()
					if err != nil {
						assert.True(t, errors.Is(err, breaker.ErrOpen) || errors.Is(err, breaker.ErrHalfOpenFull))
						rejected.Store([2]int{g, i}, true)
						continue
					}
					admitted.Store([2]int{g, i}, true)
					p.Done(resilience.Success)
				}
			}
		})
	}
	wg.Wait()
	count := func(m *sync.Map) (n uint64) {
		m.Range(func(any, any) bool { n++; return true })
		return n
	}
	s := b.Snapshot()
	assert.Equal(t, count(&admitted), s.Successes)
	assert.Equal(t, count(&rejected), s.Rejected)
	legal := map[string]bool{
		"closed->held_open": true, "half_open->held_open": true,
		"held_open->half_open": true, "held_open->closed": true, "half_open->closed": true,
	}
	prev := "closed"
	for _, step := range stateChanges(rec) {
		assert.Equal(t, prev, step[0], "the path is continuous")
		assert.True(t, legal[step[0]+"->"+step[1]], "illegal step %v", step)
		prev = step[1]
	}
	assert.Equal(t, b.State().String(), prev)
}
