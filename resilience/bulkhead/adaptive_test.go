package bulkhead_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

func TestNewAdaptiveRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name  string
		cfg   bulkhead.AdaptiveConfig
		field string
		rule  string
		value any
	}{
		{"min", bulkhead.AdaptiveConfig{Min: -1}, "Min", "must not be negative", -1},
		{"max", bulkhead.AdaptiveConfig{Min: 5, Max: 4, Initial: 5}, "Max", "must be at least Min (5)", 4},
		{"initial", bulkhead.AdaptiveConfig{Initial: 2000}, "Initial", "must be in [Min, Max] = [1, 1000]", 2000},
		{"backoff", bulkhead.AdaptiveConfig{BackoffPercent: 100}, "BackoffPercent", "must be in [1, 99]", 100},
		{"latency", bulkhead.AdaptiveConfig{LatencyTarget: -1}, "LatencyTarget", "must not be negative", time.Duration(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name = "bank"
			a, err := bulkhead.NewAdaptive(tt.cfg)
			assert.Nil(t, a)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, resilience.ConfigError{Component: "bulkhead", Name: "bank", Field: tt.field, Rule: tt.rule, Value: tt.value}, *ce)
		})
	}
	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{})
	require.NoError(t, err)
	assert.Equal(t, bulkhead.AdaptiveSnapshot{Limit: 10, Min: 1, Max: 1000}, a.Snapshot(), "documented defaults")
}

func TestAdaptiveDecreasesOnDropsAndGrowsWhenUsed(t *testing.T) {
	mock := clock.NewMock()
	rec := resiliencetest.NewRecorder()
	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{
		Initial: 4, Min: 2, Max: 5, LatencyTarget: 100 * time.Millisecond, BackoffPercent: 50, Clock: mock,
		Listeners: resilience.Listeners{rec.Listener()},
	})
	require.NoError(t, err)
	var held []bulkhead.AdaptivePermit
	for range 4 {
		p, err := a.Acquire()
		require.NoError(t, err)
		held = append(held, p)
	}
	_, err = a.Acquire()
	assert.ErrorIs(t, err, bulkhead.ErrOverLimit)
	assert.True(t, resilience.IsRejected(err))
	// Four successes with 4, 3, 2, 1 in flight: the first three found the
	// limit at least half used, so three count; the fourth run starts.
	for _, p := range held {
		p.Done(resilience.Success)
	}
	assert.Equal(t, 4, a.Snapshot().Limit)
	p, _ := a.Acquire()
	q, _ := a.Acquire()
	p.Done(resilience.Success) // the fourth used success: 4 → 5
	assert.Equal(t, 5, a.Snapshot().Limit)
	mock.Add(150 * time.Millisecond)
	q.Done(resilience.Success) // too slow: a drop, 5 → 2 (50%, floored at Min)
	assert.Equal(t, 2, a.Snapshot().Limit)
	r, _ := a.Acquire()
	r.Done(resilience.Ignored)
	s := a.Snapshot()
	assert.Equal(t, bulkhead.AdaptiveSnapshot{Limit: 2, Min: 2, Max: 5, LatencyTarget: 100 * time.Millisecond, Rejected: 1, Drops: 1}, s)
	var reasons []string
	for _, e := range rec.Events() {
		if e.Kind == resilience.EventLimitChange {
			reasons = append(reasons, e.Reason)
		}
	}
	assert.Equal(t, []string{"limit 4 -> 5", "limit 5 -> 2"}, reasons)
	assert.Equal(t, 2, rec.Count(resilience.EventLimitChange))
	assert.Equal(t, 1, rec.Count(resilience.EventRejection))
	bulkhead.AdaptivePermit{}.Done(resilience.Failure) // the zero permit does nothing
	bulkhead.AdaptivePermit{}.DoneErr(context.Background(), errors.New("x"))
	assert.Equal(t, s, a.Snapshot())
}

// adaptiveModel mirrors the AIMD rule on plain integers.
type adaptiveModel struct{ limit, inFlight, successes, min, max, backoff int }

func (m *adaptiveModel) done(o resilience.Outcome) {
	used := 2*m.inFlight >= m.limit
	m.inFlight--
	switch {
	case o == resilience.Failure:
		m.limit = max(m.min, m.limit*m.backoff/100)
		m.successes = 0
	case o == resilience.Success && used:
		m.successes++
		if m.successes >= m.limit {
			m.limit, m.successes = min(m.max, m.limit+1), 0
		}
	}
}

func TestAdaptiveModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		lo := rapid.IntRange(1, 4).Draw(t, "min")
		hi := rapid.IntRange(lo, 12).Draw(t, "max")
		m := &adaptiveModel{min: lo, max: hi, backoff: rapid.IntRange(1, 99).Draw(t, "backoff")}
		m.limit = rapid.IntRange(lo, hi).Draw(t, "initial")
		a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Initial: m.limit, Min: lo, Max: hi, BackoffPercent: m.backoff})
		if err != nil {
			t.Fatal(err)
		}
		var held, done []bulkhead.AdaptivePermit
		t.Repeat(map[string]func(*rapid.T){
			"": func(t *rapid.T) {
				s := a.Snapshot()
				if s.Limit != m.limit || s.InFlight != m.inFlight || s.InFlight != len(held) {
					t.Fatalf("snapshot limit %d in flight %d; model %d, %d", s.Limit, s.InFlight, m.limit, m.inFlight)
				}
				if s.Limit < lo || s.Limit > hi {
					t.Fatalf("limit %d outside [%d, %d]", s.Limit, lo, hi)
				}
			},
			"acquire": func(t *rapid.T) {
				p, err := a.Acquire()
				if want := m.inFlight < m.limit; (err == nil) != want {
					t.Fatalf("Acquire with %d of %d in flight: err %v", m.inFlight, m.limit, err)
				}
				if err == nil {
					m.inFlight++
					held = append(held, p)
				}
			},
			"done": func(t *rapid.T) {
				if len(held) == 0 {
					t.Skip("nothing in flight")
				}
				i := rapid.IntRange(0, len(held)-1).Draw(t, "which")
				o := rapid.SampledFrom([]resilience.Outcome{resilience.Success, resilience.Failure, resilience.Ignored}).Draw(t, "outcome")
				held[i].Done(o)
				done = append(done, held[i]) // a copy
				held = append(held[:i], held[i+1:]...)
				m.done(o)
			},
			"doneAgain": func(t *rapid.T) {
				if len(done) == 0 {
					t.Skip("nothing done")
				}
				o := rapid.SampledFrom([]resilience.Outcome{resilience.Success, resilience.Failure}).Draw(t, "outcome")
				rapid.SampledFrom(done).Draw(t, "permit").Done(o) // must change nothing
			},
		})
	})
}

// TestAdaptiveConcurrentBurst: in flight never exceeds Max however the
// limit moves, and every slot comes back.
func TestAdaptiveConcurrentBurst(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		hi := rapid.IntRange(1, 6).Draw(t, "max")
		outcomes := rapid.SliceOfN(rapid.IntRange(1, 3), 2, 32).Draw(t, "outcomes")
		a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Initial: hi, Max: hi})
		if err != nil {
			t.Fatal(err)
		}
		var inFlight, peak, admitted atomic.Int64
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for _, o := range outcomes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				p, err := a.Acquire()
				if err != nil {
					return
				}
				admitted.Add(1)
				cur := inFlight.Add(1)
				for old := peak.Load(); cur > old && !peak.CompareAndSwap(old, cur); old = peak.Load() {
				}
				inFlight.Add(-1)
				p.Done(resilience.Outcome(o))
			}()
		}
		close(gate)
		wg.Wait()
		s := a.Snapshot()
		switch {
		case peak.Load() > int64(hi):
			t.Fatalf("%d in flight with Max %d", peak.Load(), hi)
		case s.InFlight != 0:
			t.Fatalf("%d still in flight", s.InFlight)
		case admitted.Load()+int64(s.Rejected) != int64(len(outcomes)):
			t.Fatalf("admitted %d + rejected %d != %d calls", admitted.Load(), s.Rejected, len(outcomes))
		}
	})
}

// TestAdaptiveBackoffOfALargeLimit: a large limit collapsed to a tenth on
// one drop, because limit*backoff overflowed.
func TestAdaptiveBackoffOfALargeLimit(t *testing.T) {
	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Initial: math.MaxInt / 10, Max: math.MaxInt, BackoffPercent: 90})
	require.NoError(t, err)
	p, err := a.Acquire()
	require.NoError(t, err)
	p.Done(resilience.Failure)
	assert.Equal(t, math.MaxInt/10/100*90+math.MaxInt/10%100*90/100, a.Snapshot().Limit)
}

// TestAdaptivePanickingClassifierFreesItsSlot: a classifier that panicked
// left its slot taken for good.
func TestAdaptivePanickingClassifierFreesItsSlot(t *testing.T) {
	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Initial: 1, Min: 1, Max: 1,
		Classifier: func(context.Context, error) resilience.Outcome { panic("classifier bug") }})
	require.NoError(t, err)
	assert.Panics(t, func() { _ = resilience.Run(context.Background(), func(context.Context) error { return nil }, a) })
	s := a.Snapshot()
	assert.Zero(t, s.InFlight, "the slot is back")
	assert.Equal(t, uint64(1), s.Drops, "counted as a failure")
}

func TestAdaptivePermitDoneErr(t *testing.T) {
	a, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Initial: 10, BackoffPercent: 50})
	require.NoError(t, err)
	p, err := a.Acquire()
	require.NoError(t, err)
	p.DoneErr(context.Background(), errors.New("bank: 502"))
	assert.Equal(t, 5, a.Snapshot().Limit)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, err = a.Acquire()
	require.NoError(t, err)
	p.DoneErr(ctx, context.Canceled)
	s := a.Snapshot()
	assert.Equal(t, 5, s.Limit, "the caller's cancellation is ignored")
	assert.Zero(t, s.InFlight)
}
