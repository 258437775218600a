package ratelimit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

func TestNewAdaptiveRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  ratelimit.AdaptiveConfig
		want string
	}{
		{"min", ratelimit.AdaptiveConfig{Min: -1}, "ratelimit: Min must be at least 1, got -1"},
		{"max", ratelimit.AdaptiveConfig{Min: 5, Max: 4, Initial: 5}, "ratelimit: Max must be at least Min (5), got 4"},
		{"initial", ratelimit.AdaptiveConfig{Initial: 2000}, "ratelimit: Initial must be in [Min, Max] = [1, 1000], got 2000"},
		{"backoff", ratelimit.AdaptiveConfig{BackoffPercent: 100}, "ratelimit: BackoffPercent must be in [1, 99], got 100"},
		{"latency", ratelimit.AdaptiveConfig{LatencyTarget: -1}, "ratelimit: LatencyTarget must not be negative, got -1ns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ratelimit.NewAdaptive(tt.cfg)
			assert.Nil(t, a)
			assert.EqualError(t, err, tt.want)
		})
	}
	a, err := ratelimit.NewAdaptive(ratelimit.AdaptiveConfig{})
	require.NoError(t, err)
	assert.Equal(t, 10, a.Snapshot().Limit, "documented default")
}

func TestAdaptiveDecreasesOnDropsAndGrowsWhenUsed(t *testing.T) {
	mock := clock.NewMock()
	var reasons []string
	a, err := ratelimit.NewAdaptive(ratelimit.AdaptiveConfig{
		Initial: 4, Min: 2, Max: 5, LatencyTarget: 100 * time.Millisecond, BackoffPercent: 50, Clock: mock,
		Listeners: resilience.Listeners{func(e resilience.Event) {
			if e.Kind == resilience.EventLimitChange {
				reasons = append(reasons, e.Reason)
			}
		}},
	})
	require.NoError(t, err)
	var held []ratelimit.AdaptivePermit
	for range 4 {
		p, err := a.Acquire()
		require.NoError(t, err)
		held = append(held, p)
	}
	_, err = a.Acquire()
	assert.ErrorIs(t, err, ratelimit.ErrOverLimit)
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
	assert.Equal(t, ratelimit.AdaptiveSnapshot{Limit: 2, Rejected: 1, Drops: 1}, s)
	assert.Equal(t, []string{"limit 4 → 5", "limit 5 → 2"}, reasons)
	ratelimit.AdaptivePermit{}.Done(resilience.Failure) // the zero permit does nothing
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
		a, err := ratelimit.NewAdaptive(ratelimit.AdaptiveConfig{Initial: m.limit, Min: lo, Max: hi, BackoffPercent: m.backoff})
		if err != nil {
			t.Fatal(err)
		}
		var held []ratelimit.AdaptivePermit
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
				held = append(held[:i], held[i+1:]...)
				m.done(o)
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
		a, err := ratelimit.NewAdaptive(ratelimit.AdaptiveConfig{Initial: hi, Max: hi})
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

func TestAdaptivePolicyRecordsOutcomesAndPanics(t *testing.T) {
	a, err := ratelimit.NewAdaptive(ratelimit.AdaptiveConfig{Initial: 10, BackoffPercent: 50})
	require.NoError(t, err)
	is503 := func(_ context.Context, code int, _ error) resilience.Outcome {
		if code == 503 {
			return resilience.Failure
		}
		return resilience.Unclassified
	}
	p, err := ratelimit.NewAdaptivePolicy[int](a, resilience.Classify(is503))
	require.NoError(t, err)
	v, err := p.Wrap(func(context.Context) (int, error) { return 503, nil })(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 503, v)
	assert.Equal(t, 5, a.Snapshot().Limit, "a 503 without error is a failure")
	assert.PanicsWithValue(t, "boom", func() {
		_, _ = p.Wrap(func(context.Context) (int, error) { panic("boom") })(context.Background())
	})
	s := a.Snapshot()
	assert.Equal(t, 2, s.Limit, "a panic is a failure")
	assert.Equal(t, 0, s.InFlight, "and frees its slot")
	_, err = p.Wrap(func(context.Context) (int, error) { return 0, errors.New("x") })(context.Background())
	assert.EqualError(t, err, "x")
	_, err = ratelimit.NewAdaptivePolicy[int](nil, nil)
	assert.ErrorIs(t, err, ratelimit.ErrNilLimiter)
}
