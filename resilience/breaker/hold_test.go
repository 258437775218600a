package breaker_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type holdLog struct {
	mu  sync.Mutex
	got [][3]string // from, to, reason
}

func (tr *holdLog) listen(e resilience.Event) {
	if e.Kind == resilience.EventStateChange {
		tr.mu.Lock()
		tr.got = append(tr.got, [3]string{e.From, e.To, e.Reason})
		tr.mu.Unlock()
	}
}

func TestHoldOpenAndRelease(t *testing.T) {
	mock := clock.NewMock()
	var tr holdLog
	b, err := breaker.New(breaker.Config{Name: "bank", Clock: mock, Listeners: resilience.Listeners{tr.listen}})
	require.NoError(t, err)

	require.True(t, b.HoldOpen("health: 3 consecutive failures", 2*time.Second))
	assert.Equal(t, breaker.ForcedOpen, b.State())
	_, err = b.Allow()
	require.ErrorIs(t, err, breaker.ErrOpen)
	after, ok := resilience.RetryAfter(err)
	assert.True(t, ok)
	assert.Equal(t, 2*time.Second, after, "the retry-after is the next probe")

	mock.Add(time.Second)
	assert.Equal(t, time.Second, mustRetryAfter(t, err), "computed when asked")
	require.True(t, b.HoldOpen("health: still failing", 5*time.Second), "a refresh")
	_, err = b.Allow()
	assert.Equal(t, 5*time.Second, mustRetryAfter(t, err))
	mock.Add(time.Hour)
	assert.Equal(t, breaker.ForcedOpen, b.State(), "held until released, not until a wait elapses")

	require.True(t, b.Release("health: recovered", false))
	assert.Equal(t, breaker.HalfOpen, b.State())
	p, err := b.Allow()
	require.NoError(t, err, "real traffic confirms the recovery")
	p.Done(resilience.Success)

	assert.Equal(t, [][3]string{
		{"closed", "forced_open", "health: 3 consecutive failures"},
		{"forced_open", "half_open", "health: recovered"},
		{"half_open", "closed", tr.got[2][2]},
	}, tr.got, "a refresh makes no event")
}

func mustRetryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	d, _ := resilience.RetryAfter(err)
	return d
}

func TestReleaseCutsAnOpenWaitShortOrCloses(t *testing.T) {
	mock := clock.NewMock()
	b, _ := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Minute, Clock: mock})
	p, _ := b.Allow()
	p.Done(resilience.Failure)
	require.Equal(t, breaker.Open, b.State())
	assert.True(t, b.Release("health: recovered", true))
	assert.Equal(t, breaker.Closed, b.State())

	assert.False(t, b.Release("again", false), "nothing to release in closed")
	p, _ = b.Allow()
	p.Done(resilience.Failure)
	mock.Add(time.Minute)
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
			b, _ := breaker.New(breaker.Config{})
			manual.set(b)
			assert.False(t, b.HoldOpen("health", time.Second))
			assert.False(t, b.Release("health", true))
			assert.Equal(t, manual.want, b.State())
		})
	}

	t.Run("a person forcing open during a hold takes it over", func(t *testing.T) {
		var tr holdLog
		b, _ := breaker.New(breaker.Config{Listeners: resilience.Listeners{tr.listen}})
		require.True(t, b.HoldOpen("health", time.Second))
		b.ForceOpen()
		assert.False(t, b.Release("health: recovered", false), "health cannot undo the person")
		assert.Equal(t, breaker.ForcedOpen, b.State())
		_, err := b.Allow()
		assert.Zero(t, mustRetryAfter(t, err), "a manual force knows no retry-after")
		require.Len(t, tr.got, 2)
		assert.Equal(t, [3]string{"forced_open", "forced_open", "forced open"}, tr.got[1])
	})
}

// Holds and releases racing with calls leave a legal path of holdLog and
// exact accounting.
func TestHoldReleaseRacingCalls(t *testing.T) {
	var tr holdLog
	b, _ := breaker.New(breaker.Config{Listeners: resilience.Listeners{tr.listen}, MaxProbes: 2, SuccessesToClose: 1})
	var wg sync.WaitGroup
	var admitted, rejected sync.Map
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				switch {
				case g == 0 && i%20 == 0:
					b.HoldOpen("health", time.Second)
				case g == 1 && i%20 == 10:
					b.Release("health", i%40 == 10)
				default:
					p, err := b.Allow()
					if err != nil {
						require.True(t, errors.Is(err, breaker.ErrOpen) || errors.Is(err, breaker.ErrHalfOpenFull))
						rejected.Store([2]int{g, i}, true)
						continue
					}
					admitted.Store([2]int{g, i}, true)
					p.Done(resilience.Success)
				}
			}
		}()
	}
	wg.Wait()
	count := func(m *sync.Map) (n uint64) {
		m.Range(func(any, any) bool { n++; return true })
		return n
	}
	s := b.Snapshot()
	assert.Equal(t, count(&admitted), s.Successes)
	assert.Equal(t, count(&rejected), s.Rejected)
	legal := map[[2]string]bool{
		{"closed", "forced_open"}: true, {"half_open", "forced_open"}: true,
		{"forced_open", "half_open"}: true, {"forced_open", "closed"}: true, {"half_open", "closed"}: true,
	}
	prev := "closed"
	for _, step := range tr.got {
		assert.Equal(t, prev, step[0], "the path is continuous")
		assert.True(t, legal[[2]string{step[0], step[1]}], "illegal step %v", step)
		prev = step[1]
	}
	assert.Equal(t, b.State().String(), prev)
}
