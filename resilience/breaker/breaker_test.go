package breaker_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  breaker.Config
		want string
	}{
		{"rate above 1", breaker.Config{FailureRate: 1.5}, "breaker: FailureRate must be in (0,1], got 1.5"},
		{"negative rate", breaker.Config{FailureRate: -0.1}, "breaker: FailureRate must be in (0,1], got -0.1"},
		{"NaN slow rate", breaker.Config{SlowCallRate: math.NaN()}, "breaker: SlowCallRate must be in (0,1], got NaN"},
		{"negative consecutive", breaker.Config{ConsecutiveFailures: -1}, "breaker: ConsecutiveFailures must be >= 0, got -1"},
		{"both windows", breaker.Config{WindowSize: 10, WindowDuration: time.Second}, "breaker: set either WindowSize (10) or WindowDuration (1s), not both"},
		{"size not multiple", breaker.Config{WindowSize: 15, WindowBuckets: 10}, "breaker: WindowSize (15) must be a multiple of WindowBuckets (10)"},
		{"min above size", breaker.Config{FailureRate: 0.5, WindowSize: 10, MinimumCalls: 11}, "breaker: MinimumCalls (11) must not exceed WindowSize (10)"},
		{"tiny buckets", breaker.Config{WindowDuration: 5, WindowBuckets: 10}, "breaker: WindowDuration (5ns) must be at least WindowBuckets (10) nanoseconds"},
		{"negative wait", breaker.Config{OpenWait: -time.Second}, "breaker: OpenWait must be >= 0, got -1s"},
		{"cap below wait", breaker.Config{OpenWait: time.Minute, MaxOpenWait: time.Second}, "breaker: MaxOpenWait (1s) must not be below OpenWait (1m0s)"},
		{"negative probes", breaker.Config{MaxProbes: -2}, "breaker: MaxProbes must be >= 0, got -2"},
		{"negative half-open", breaker.Config{MaxHalfOpen: -1}, "breaker: MaxHalfOpen must be >= 0, got -1ns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := breaker.New(tt.cfg)
			assert.Nil(t, b)
			assert.EqualError(t, err, tt.want)
		})
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

func TestClosedSuccessReadsNoClockAndAllocatesNothing(t *testing.T) {
	clk := &countingClock{Mock: clock.NewMock()}
	b, err := breaker.New(breaker.Config{FailureRate: 0.5, ConsecutiveFailures: 3, Clock: clk})
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

	clk.Add(6 * time.Second)
	_ = allow(t, b)
	_, err = b.Allow()
	require.ErrorIs(t, err, breaker.ErrHalfOpenFull)
	assert.NotErrorIs(t, err, breaker.ErrOpen)
	assert.True(t, resilience.IsRejected(err))
	require.ErrorAs(t, err, &re)
	assert.Equal(t, breaker.HalfOpen, re.State())
	assert.Equal(t, uint64(2), b.Snapshot().Rejected)
}

func TestOpenWaitGrowsIsCappedAndRestartsOnClose(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{
		ConsecutiveFailures: 1, OpenWait: time.Second, MaxOpenWait: 5 * time.Second,
		OpenBackoff: doublingStrategy{},
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

type doublingStrategy struct{}

func (doublingStrategy) Delay(_ int, prev time.Duration) time.Duration { return 2 * prev }

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
	var (
		mu     sync.Mutex
		events []resilience.Event
	)
	listener := func(e resilience.Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Kind == resilience.EventStateChange {
			events = append(events, e)
		}
	}
	b, _ := newBreaker(t, breaker.Config{ConsecutiveFailures: 2, Listeners: resilience.Listeners{listener}})
	b.MetricsOnly()
	for range 5 {
		call(b, resilience.Failure)
	}
	assert.Equal(t, breaker.MetricsOnly, b.State())
	s := b.Snapshot()
	assert.Equal(t, uint64(5), s.Failures)
	assert.Equal(t, uint64(0), s.Rejected)
	require.Len(t, events, 3)
	assert.Equal(t, "metrics_only", events[0].To)
	for _, e := range events[1:] {
		assert.Equal(t, "metrics_only", e.From)
		assert.Equal(t, "metrics_only", e.To)
		assert.Equal(t, "would open: 2 consecutive failures", e.Reason)
		assert.False(t, e.Degraded)
	}
}

func TestEvents(t *testing.T) {
	var events []resilience.Event
	b, clk := newBreaker(t, breaker.Config{
		Name: "fx", ConsecutiveFailures: 1, OpenWait: time.Second,
		Listeners: resilience.Listeners{func(e resilience.Event) { events = append(events, e) }},
	})
	p := allow(t, b)
	clk.Add(30 * time.Millisecond)
	p.DoneErr(context.Background(), errors.New("timeout"))
	_, _ = b.Allow()

	require.Len(t, events, 3)
	out, open, rej := events[0], events[1], events[2]
	assert.Equal(t, resilience.EventOutcome, out.Kind)
	assert.Equal(t, resilience.Failure, out.Outcome)
	assert.Equal(t, 30*time.Millisecond, out.Duration)
	assert.EqualError(t, out.Err, "timeout")

	assert.Equal(t, resilience.EventStateChange, open.Kind)
	assert.Equal(t, "breaker", open.Policy)
	assert.Equal(t, "fx", open.Name)
	assert.Equal(t, "closed", open.From)
	assert.Equal(t, "open", open.To)
	assert.True(t, open.Degraded)
	assert.Equal(t, "1 consecutive failures", open.Reason)
	snap, ok := open.Detail.(breaker.Snapshot)
	require.True(t, ok)
	assert.Equal(t, breaker.Open, snap.State)
	assert.Equal(t, time.Second, snap.UntilHalfOpen)

	assert.Equal(t, resilience.EventRejection, rej.Kind)
	assert.ErrorIs(t, rej.Err, breaker.ErrOpen)
}

func TestPolicyRecordsPanicAsFailureAndReraises(t *testing.T) {
	b, _ := newBreaker(t, breaker.Config{ConsecutiveFailures: 1})
	f := breaker.Policy[int](b).Wrap(func(context.Context) (int, error) { panic("boom") })
	assert.PanicsWithValue(t, "boom", func() { _, _ = f(context.Background()) })
	s := b.Snapshot()
	assert.Equal(t, uint64(1), s.Failures)
	assert.Equal(t, breaker.Open, s.State)
}

func TestPolicyNilArguments(t *testing.T) {
	b, _ := newBreaker(t, breaker.Config{})
	_, err := breaker.Policy[int](nil).Wrap(func(context.Context) (int, error) { return 1, nil })(context.Background())
	assert.ErrorIs(t, err, breaker.ErrNilBreaker)
	_, err = breaker.Policy[int](b).Wrap(nil)(context.Background())
	assert.ErrorIs(t, err, resilience.ErrNilFunc)
}

func TestPolicyClassifierOrder(t *testing.T) {
	b, _ := newBreaker(t, breaker.Config{
		ConsecutiveFailures: 1,
		Classifier: func(context.Context, error) resilience.Outcome {
			return resilience.Ignored // the breaker's own rule: ignore every error
		},
	})
	negative := func(_ context.Context, v int, _ error) resilience.Outcome {
		if v < 0 {
			return resilience.Failure
		}
		return resilience.Unclassified
	}
	f := breaker.Policy(b, nil, negative).Wrap(func(_ context.Context) (int, error) { return 1, errors.New("x") })
	_, _ = f(context.Background())
	assert.Equal(t, breaker.Closed, b.State(), "an error the breaker's classifier ignores")
	g := breaker.Policy(b, negative).Wrap(func(context.Context) (int, error) { return -1, nil })
	_, _ = g(context.Background())
	assert.Equal(t, breaker.Open, b.State(), "a negative result is a failure")
}

func TestPermitDoneIsIdempotentAndZeroPermitIsInert(t *testing.T) {
	b, _ := newBreaker(t, breaker.Config{})
	var zero breaker.Permit
	zero.Done(resilience.Failure)
	zero.DoneErr(context.Background(), errors.New("x"))
	p := allow(t, b)
	p.Done(resilience.Success)
	p.Done(resilience.Failure)
	s := b.Snapshot()
	assert.Equal(t, uint64(1), s.Successes)
	assert.Equal(t, uint64(0), s.Failures)
}

func TestIgnoredProbeFreesItsSlotAndCopiesReleaseOnce(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Second, SuccessesToClose: 2})
	call(b, resilience.Failure)
	clk.Add(time.Second)

	probe := allow(t, b)
	_, err := b.Allow()
	require.ErrorIs(t, err, breaker.ErrHalfOpenFull)
	probe.Done(resilience.Ignored)
	assert.Equal(t, 0, b.Snapshot().ProbesInFlight, "an ignored probe frees its slot")

	probe = allow(t, b)
	copied := probe
	probe.Done(resilience.Success)
	copied.Done(resilience.Success) // counted in totals, but releases and closes nothing
	s := b.Snapshot()
	assert.Equal(t, breaker.HalfOpen, s.State)
	assert.Equal(t, 1, s.ProbeSuccesses)
	assert.Equal(t, 0, s.ProbesInFlight)
}

func TestSlogListenerLogsTransitionsWithSnapshot(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	b, _ := newBreaker(t, breaker.Config{
		Name: "bank", ConsecutiveFailures: 1,
		Listeners: resilience.Listeners{resilience.SlogListener(logger, resilience.SlogOptions{})},
	})
	call(b, resilience.Failure)
	out := buf.String()
	assert.Contains(t, out, `level=WARN msg="state change" policy=breaker name=bank from=closed to=open`)
	assert.Contains(t, out, "snapshot.state=open")
	assert.Contains(t, out, "snapshot.open_wait=5s")
}
