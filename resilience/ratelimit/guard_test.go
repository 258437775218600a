package ratelimit_test

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

func TestGuardRefusesAtOnce(t *testing.T) {
	mock := clock.NewMock()
	rec := resiliencetest.NewRecorder()
	l, err := ratelimit.NewWithConfig(ratelimit.Config{
		Rate: ratelimit.Every(250 * time.Millisecond), Burst: 1, Name: "bank", Clock: mock,
		Listeners: resilience.Listeners{rec.Listener()},
	})
	require.NoError(t, err)
	p := resilience.NewPipeline[string](l)
	calls := 0
	charge := func(context.Context) (string, error) { calls++; return "ok", nil }

	v, err := p.Execute(context.Background(), charge)
	require.NoError(t, err)
	assert.Equal(t, "ok", v)
	mock.Add(100 * time.Millisecond)
	v, err = p.Execute(context.Background(), charge)
	assert.Empty(t, v)
	assert.Equal(t, 1, calls, "a rejected call must not reach the function")
	assert.True(t, resilience.IsRejected(err))
	assert.ErrorIs(t, err, ratelimit.ErrLimited)
	rej, ok := resilience.AsRejection(err)
	require.True(t, ok)
	assert.Equal(t, resilience.Rejection{Policy: "ratelimit", Name: "bank", Reason: ratelimit.ErrLimited, RetryAfter: 150 * time.Millisecond}, rej)
	assert.EqualError(t, err, `ratelimit: rate limited (name "bank", retry after 150ms)`)
	events := rec.Events()
	require.Len(t, events, 1)
	assert.Equal(t, resilience.EventRejection, events[0].Kind)
	assert.Equal(t, "bank", events[0].Name)
	assert.Same(t, err, events[0].Err)
	assert.Equal(t, uint64(1), l.Snapshot().Rejected)
}

func TestGuardWaitsUpToMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Every(100 * time.Millisecond), Burst: 1,
			MaxWait: 150 * time.Millisecond})
		require.NoError(t, err)
		p := resilience.NewPipeline[int](l)
		f := func(context.Context) (int, error) { return 7, nil }
		start := time.Now()
		for i, want := range []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond} {
			v, err := p.Execute(t.Context(), f)
			require.NoError(t, err, "call %d", i)
			assert.Equal(t, 7, v)
			assert.Equal(t, want, time.Since(start), "call %d", i)
		}
		// Two queued ahead: a third would wait 200ms > MaxWait.
		require.True(t, l.ReserveN(1).OK())
		_, err = p.Execute(t.Context(), f)
		assert.ErrorIs(t, err, ratelimit.ErrLimited)
		d, _ := resilience.RetryAfter(err)
		assert.Equal(t, 200*time.Millisecond, d)
		assert.Equal(t, 200*time.Millisecond, time.Since(start), "refused without waiting")
		assert.Equal(t, uint64(1), l.Snapshot().Rejected)
	})
}

func TestGuardPassesThroughWithoutObservingOutcomes(t *testing.T) {
	l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Inf, MaxWait: time.Second})
	require.NoError(t, err)
	boom := errors.New("boom")
	assert.Same(t, boom, resilience.Run(context.Background(), func(context.Context) error { return boom }, l))
	assert.PanicsWithValue(t, "kaboom", func() {
		_ = resilience.Run(context.Background(), func(context.Context) error { panic("kaboom") }, l)
	})
}

func TestGuardDoesNotAdmitADoneCall(t *testing.T) {
	for _, maxWait := range []time.Duration{0, time.Second} {
		l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.PerSecond(1), MaxWait: maxWait})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		op := resiliencetest.FailN(0, nil)
		assert.ErrorIs(t, resilience.Run(ctx, op.Run, l), context.Canceled)
		assert.Zero(t, op.Calls())
		s := l.Snapshot()
		assert.Equal(t, 1, s.Tokens, "no token taken (MaxWait %v)", maxWait)
		assert.Zero(t, s.Rejected)
	}
}

// TestGuardListenerForStateChangesSeesNoRejection: a refusal is built into
// an event only for a listener that subscribes to rejections.
func TestGuardListenerForStateChangesSeesNoRejection(t *testing.T) {
	var got []resilience.Event
	l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Every(time.Hour), Clock: clock.NewMock(),
		Listeners: resilience.Listeners{resilience.OnStateChange(func(e resilience.Event) { got = append(got, e) })}})
	require.NoError(t, err)
	ch := resilience.NewChain(l)
	op := func(context.Context) error { return nil }
	require.NoError(t, ch.Run(context.Background(), op))
	assert.ErrorIs(t, ch.Run(context.Background(), op), ratelimit.ErrLimited)
	require.NoError(t, l.SetBurst(2))
	require.Len(t, got, 1)
	assert.Equal(t, resilience.EventLimitChange, got[0].Kind)
}

// TestHugeMaxWaitCannotWedgeTheLimiter: with an unbounded MaxWait, waiters
// could push a very slow limiter's schedule past the int64 range, onto its
// internal "frozen" marker, and every later call spun forever.
func TestHugeMaxWaitCannotWedgeTheLimiter(t *testing.T) {
	mock := clock.NewMock()
	l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Every(1 << 59), Burst: 1, MaxWait: math.MaxInt64, Clock: mock})
	require.NoError(t, err)
	ch := resilience.NewChain(l)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() { defer wg.Done(); _ = ch.Run(ctx, func(context.Context) error { return nil }) }()
	}
	for i := 0; i < 1_000_000 && l.Snapshot().Tokens > -1; i++ {
		runtime.Gosched() // until waiters have queued
	}
	done := make(chan bool)
	go func() { done <- l.Allow() }()
	assert.False(t, <-done, "Allow answers (it used to spin forever)")
	cancel()
	wg.Wait()
}

func TestNilLimitersFailClearly(t *testing.T) {
	k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.PerSecond(1)})
	require.NoError(t, err)
	var nilLimiter *ratelimit.Limiter
	guards := map[string]resilience.Guard{
		"nil *Limiter":    nilLimiter,
		"ByKey nil Keyed": ratelimit.ByKey(nil, func(context.Context) string { return "" }),
		"ByKey nil key":   ratelimit.ByKey(k, nil),
	}
	for name, g := range guards {
		op := resiliencetest.FailN(0, nil)
		err := resilience.Run(context.Background(), op.Run, g)
		assert.ErrorIs(t, err, ratelimit.ErrNilLimiter, name)
		assert.False(t, resilience.IsRejected(err), "%s: a programmer's error, not a rejection", name)
		assert.Zero(t, op.Calls(), name)
	}
	var nilKeyed *ratelimit.Keyed
	assert.ErrorIs(t, nilKeyed.Admit("a"), ratelimit.ErrNilLimiter)
	assert.EqualError(t, resilience.Run(context.Background(), func(context.Context) error { return nil }, ratelimit.ByKey(k, nil)),
		"ratelimit: nil limiter: ByKey without a key function")
}

// merchant is request-scoped identity that authentication middleware puts
// into the context: who is calling, not an argument of the call.
type merchant struct{}

func TestByKey(t *testing.T) {
	mock := clock.NewMock()
	rec := resiliencetest.NewRecorder()
	k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Minute), Burst: 1, MaxKeys: 2,
		Name: "per-merchant", Clock: mock, Listeners: resilience.Listeners{rec.Listener()}})
	require.NoError(t, err)
	p := resilience.NewPipeline[string](ratelimit.ByKey(k, func(ctx context.Context) string {
		m, _ := ctx.Value(merchant{}).(string)
		return m
	}))
	as := func(m string) context.Context { return context.WithValue(context.Background(), merchant{}, m) }
	charge := func(context.Context) (string, error) { return "charged", nil }

	v, err := p.Execute(as("acme"), charge)
	require.NoError(t, err)
	assert.Equal(t, "charged", v)
	_, err = p.Execute(as("acme"), charge)
	assert.ErrorIs(t, err, ratelimit.ErrLimited)
	rej, ok := resilience.AsRejection(err)
	require.True(t, ok)
	assert.Equal(t, resilience.Rejection{Policy: "ratelimit", Name: "per-merchant", Reason: ratelimit.ErrLimited, RetryAfter: time.Minute}, rej)
	_, err = p.Execute(as("globex"), charge)
	require.NoError(t, err, "another merchant has its own limit")
	_, err = p.Execute(as("initech"), charge)
	assert.ErrorIs(t, err, ratelimit.ErrTooManyKeys)
	assert.True(t, resilience.IsRejected(err))
	assert.Equal(t, []resilience.EventKind{resilience.EventRejection, resilience.EventRejection}, rec.Kinds())
	s := k.Snapshot()
	assert.Equal(t, uint64(1), s.Limited)
	assert.Equal(t, uint64(1), s.Refused)

	ctx, cancel := context.WithCancel(as("globex"))
	cancel()
	mock.Add(time.Hour)
	_, err = p.Execute(ctx, charge)
	assert.ErrorIs(t, err, context.Canceled)
	d, _ := k.Take("globex", 0)
	assert.Equal(t, 1, d.Remaining, "a done call takes no token")
}

// TestAdmitNeedsNoContext: the key is an argument, given before the
// pipeline runs; the pipeline itself is keyless.
func TestAdmitNeedsNoContext(t *testing.T) {
	mock := clock.NewMock()
	k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Second), Burst: 2, Clock: mock})
	require.NoError(t, err)
	require.NoError(t, k.Admit("acme"))
	require.NoError(t, k.Admit("acme"))
	err = k.Admit("acme")
	assert.ErrorIs(t, err, ratelimit.ErrLimited)
	d, ok := resilience.RetryAfter(err)
	assert.True(t, ok)
	assert.Equal(t, time.Second, d)
	require.NoError(t, k.Admit("globex"))
	mock.Add(time.Second)
	require.NoError(t, k.Admit("acme"))
}
