package breaker_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

// The state machine: trip rules, open wait, rejections, manual states.

func newBreaker(t *testing.T, cfg breaker.Config) (*breaker.Breaker, *clock.Mock) {
	t.Helper()
	clk := clock.NewMock()
	cfg.Clock = clk
	b, err := breaker.New(cfg)
	require.NoError(t, err)
	return b, clk
}

func allow(t *testing.T, b *breaker.Breaker) breaker.Permit {
	t.Helper()
	p, err := b.Allow()
	require.NoError(t, err)
	return p
}

func call(br *breaker.Breaker, o resilience.Outcome) {
	p, err := br.Allow()
	if err == nil {
		p.Done(o)
	}
}

func TestZeroConfigOpensAfterFiveConsecutiveFailures(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{})
	for i := range 5 {
		require.Equal(t, breaker.Closed, b.State(), "after %d failures", i)
		p := allow(t, b)
		p.Done(resilience.Failure)
	}
	assert.Equal(t, breaker.Open, b.State())
	clk.Add(breaker.DefaultOpenWait - 1)
	assert.Equal(t, breaker.Open, b.State())
	clk.Add(1)
	assert.Equal(t, breaker.HalfOpen, b.State())
}

// countingClock counts reads of the time.
type countingClock struct {
	*clock.Mock
	reads atomic.Int64
}

func (c *countingClock) Now() time.Time { c.reads.Add(1); return c.Mock.Now() }

// The hot path, with no listener and with a listener of state changes
// only: a closed success reads no clock and allocates nothing, and neither
// does a rejection.
func TestClosedSuccessReadsNoClockAndAllocatesNothing(t *testing.T) {
	for _, tt := range []struct {
		name      string
		listeners resilience.Listeners
	}{
		{"no listener", nil},
		{"state-change listener", resilience.Listeners{resilience.OnStateChange(func(resilience.Event) {})}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := &countingClock{Mock: clock.NewMock()}
			b, err := breaker.New(breaker.Config{FailureRate: 0.5, ConsecutiveFailures: 3, Clock: clk, Listeners: tt.listeners})
			require.NoError(t, err)
			clk.reads.Store(0)
			allocs := testing.AllocsPerRun(100, func() { call(b, resilience.Success) })
			assert.Zero(t, allocs)
			assert.Zero(t, clk.reads.Load(), "clock reads")

			b.ForceOpen()
			assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = b.Allow() }), "forced-open rejection allocates")
			b.Reset()
			for range 3 {
				call(b, resilience.Failure)
			}
			require.Equal(t, breaker.Open, b.State())
			assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = b.Allow() }), "open rejection allocates")
		})
	}
}

func TestRejectedError(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{Name: "bank", ConsecutiveFailures: 1, OpenWait: 10 * time.Second})
	call(b, resilience.Failure)
	clk.Add(4 * time.Second)
	_, err := b.Allow()

	require.ErrorIs(t, err, breaker.ErrOpen)
	assert.NotErrorIs(t, err, breaker.ErrHalfOpenFull)
	assert.True(t, resilience.IsRejected(err))
	assert.EqualError(t, err, `breaker: circuit open (name "bank", retry after 6s)`)
	d, ok := resilience.RetryAfter(err)
	assert.True(t, ok)
	assert.Equal(t, 6*time.Second, d)
	r, ok := resilience.AsRejection(err)
	require.True(t, ok)
	assert.Equal(t, resilience.Rejection{Policy: "breaker", Name: "bank", Reason: breaker.ErrOpen, RetryAfter: 6 * time.Second}, r)
	var re *breaker.RejectedError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, breaker.Open, re.State())
	assert.Equal(t, "bank", re.Name())

	clk.Add(6 * time.Second)
	_ = allow(t, b)
	_, err = b.Allow()
	require.ErrorIs(t, err, breaker.ErrHalfOpenFull)
	assert.NotErrorIs(t, err, breaker.ErrOpen)
	assert.True(t, resilience.IsRejected(err))
	require.ErrorAs(t, err, &re)
	assert.Equal(t, breaker.HalfOpen, re.State())
	assert.Equal(t, uint64(2), b.Snapshot().Rejected)

	var zero breaker.RejectedError
	assert.ErrorIs(t, &zero, breaker.ErrOpen, "the zero value reports ErrOpen")
	assert.Zero(t, zero.RetryAfter())
}

func TestOpenWaitGrowsIsCappedAndRestartsOnClose(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{
		ConsecutiveFailures: 1, OpenWait: time.Second, MaxOpenWait: 5 * time.Second,
		OpenBackoff: doubling{},
	})
	call(b, resilience.Failure)
	var waits []time.Duration
	for range 4 {
		s := b.Snapshot()
		waits = append(waits, s.OpenWait)
		clk.Add(s.OpenWait)
		call(b, resilience.Failure) // the probe fails
	}
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second}, waits)

	clk.Add(5 * time.Second)
	call(b, resilience.Success)
	require.Equal(t, breaker.Closed, b.State())
	call(b, resilience.Failure)
	assert.Equal(t, time.Second, b.Snapshot().OpenWait, "the sequence restarts after closing")
}

// doubling is a test strategy: every re-opening waits twice the last.
type doubling struct{}

func (doubling) Delay(_ int, prev time.Duration) time.Duration { return 2 * prev }

func TestRetryAfterLengthensTheWaitUpToTheCap(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter time.Duration
		ignore     bool
		want       time.Duration
	}{
		{"shorter than the wait", time.Second, false, 2 * time.Second},
		{"longer", 7 * time.Second, false, 7 * time.Second},
		{"beyond the cap", time.Hour, false, 30 * time.Second},
		{"ignored", 7 * time.Second, true, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newBreaker(t, breaker.Config{
				ConsecutiveFailures: 1, OpenWait: 2 * time.Second, MaxOpenWait: 30 * time.Second,
				IgnoreRetryAfter: tt.ignore,
			})
			p := allow(t, b)
			p.DoneErr(context.Background(), resilience.WithRetryAfter(errors.New("503"), tt.retryAfter))
			assert.Equal(t, tt.want, b.Snapshot().UntilHalfOpen)
		})
	}
}

func TestManualStates(t *testing.T) {
	b, _ := newBreaker(t, breaker.Config{ConsecutiveFailures: 1})
	b.ForceOpen()
	_, err := b.Allow()
	require.ErrorIs(t, err, breaker.ErrOpen)
	var re *breaker.RejectedError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, breaker.ForcedOpen, re.State())
	d, ok := resilience.RetryAfter(err)
	assert.False(t, ok, "a forced open breaker does not know when it will close, got %v", d)

	b.ForceClosed()
	for range 10 {
		call(b, resilience.Failure)
	}
	assert.Equal(t, breaker.Disabled, b.State())

	b.Reset()
	s := b.Snapshot()
	assert.Equal(t, breaker.Closed, s.State)
	assert.Equal(t, uint64(10), s.Failures, "totals survive Reset")
	assert.Zero(t, s.WindowCalls)
}

func TestMetricsOnlyReportsWouldOpenAndNeverRejects(t *testing.T) {
	rec := resiliencetest.NewRecorder()
	b, _ := newBreaker(t, breaker.Config{ConsecutiveFailures: 2, Listeners: resilience.Listeners{rec.Listener()}})
	b.MetricsOnly()
	for range 5 {
		call(b, resilience.Failure)
	}
	assert.Equal(t, breaker.MetricsOnly, b.State())
	s := b.Snapshot()
	assert.Equal(t, uint64(5), s.Failures)
	assert.Equal(t, uint64(0), s.Rejected)
	assert.Equal(t, []string{"closed->metrics_only", "metrics_only->metrics_only", "metrics_only->metrics_only"}, rec.StateChanges())
	for _, e := range rec.Events() {
		if e.Kind == resilience.EventStateChange && e.From == "metrics_only" {
			assert.Equal(t, "would open: 2 consecutive failures", e.Reason)
			assert.False(t, e.Degraded)
		}
	}
}

// hystrix-go: a success of a call admitted before the breaker opened, that
// reports late, must not close it, neither while open nor half-open.
func TestLateSuccessDoesNotClose(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Second})
	slowCall := allow(t, b)
	otherSlowCall := allow(t, b)
	failing := allow(t, b)
	failing.Done(resilience.Failure)
	require.Equal(t, breaker.Open, b.State())

	slowCall.Done(resilience.Success)
	assert.Equal(t, breaker.Open, b.State(), "late success while open")

	clk.Add(time.Second)
	require.Equal(t, breaker.HalfOpen, b.State())
	otherSlowCall.Done(resilience.Success)
	s := b.Snapshot()
	assert.Equal(t, breaker.HalfOpen, s.State, "late success while half-open")
	assert.Equal(t, 0, s.ProbeSuccesses)
	assert.Equal(t, uint64(2), s.Successes, "late successes are still totalled")
}

func TestStateText(t *testing.T) {
	for st, want := range map[breaker.State]string{
		breaker.Closed: "closed", breaker.Open: "open", breaker.HalfOpen: "half_open",
		breaker.ForcedOpen: "forced_open", breaker.Disabled: "disabled",
		breaker.MetricsOnly: "metrics_only", breaker.HeldOpen: "held_open", breaker.State(99): "unknown",
	} {
		assert.Equal(t, want, st.String())
		if want == "unknown" {
			continue
		}
		text, err := st.MarshalText()
		require.NoError(t, err)
		var back breaker.State
		require.NoError(t, back.UnmarshalText(text))
		assert.Equal(t, st, back)
	}
	var st breaker.State
	assert.Error(t, st.UnmarshalText([]byte("ajar")))
}
