package chaos_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/chaos"
	"github.com/riprap-go/riprap/resilience/throttle"
)

var errReset = errors.New("connection reset")

// counting returns a function that counts its calls.
func counting(calls *atomic.Int64) func(context.Context) error {
	return func(context.Context) error { calls.Add(1); return nil }
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		make  func(chaos.Config) (*chaos.Injector, error)
		cfg   chaos.Config
		field string
	}{
		{"rate negative", faultOf(errReset), chaos.Config{Rate: -0.1}, "Rate"},
		{"rate above 1", faultOf(errReset), chaos.Config{Rate: 1.5}, "Rate"},
		{"rate NaN", faultOf(errReset), chaos.Config{Rate: math.NaN()}, "Rate"},
		{"latency zero", latencyOf(0), chaos.Config{}, "Latency"},
		{"latency negative", latencyOf(-time.Second), chaos.Config{}, "Latency"},
		{"latency with bad rate", latencyOf(time.Second), chaos.Config{Rate: 2}, "Rate"},
		{"behavior nil", func(c chaos.Config) (*chaos.Injector, error) { return chaos.Behavior(nil, c) }, chaos.Config{}, "Behavior"},
		{"result bad rate", func(c chaos.Config) (*chaos.Injector, error) { return chaos.Result(1, c) }, chaos.Config{Rate: 3}, "Rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name = "drill"
			inj, err := tt.make(tt.cfg)
			assert.Nil(t, inj)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "chaos", ce.Component)
			assert.Equal(t, "drill", ce.Name)
			assert.Equal(t, tt.field, ce.Field)
		})
	}
}

func faultOf(err error) func(chaos.Config) (*chaos.Injector, error) {
	return func(c chaos.Config) (*chaos.Injector, error) { return chaos.Fault(err, c) }
}

func latencyOf(d time.Duration) func(chaos.Config) (*chaos.Injector, error) {
	return func(c chaos.Config) (*chaos.Injector, error) { return chaos.Latency(d, c) }
}

func TestOffUntilEnabled(t *testing.T) {
	inj, err := chaos.Fault(errReset, chaos.Config{})
	require.NoError(t, err)
	var calls atomic.Int64
	require.NoError(t, resilience.Run(context.Background(), counting(&calls), inj))
	assert.Equal(t, int64(1), calls.Load())
	assert.False(t, inj.On())

	inj.Enable()
	err = resilience.Run(context.Background(), counting(&calls), inj)
	assert.ErrorIs(t, err, chaos.ErrInjected)
	assert.Equal(t, int64(1), calls.Load(), "an injected fault replaces the call")

	inj.Disable()
	require.NoError(t, resilience.Run(context.Background(), counting(&calls), inj))
	assert.Equal(t, int64(2), calls.Load())
	s := inj.Snapshot()
	assert.Equal(t, uint64(1), s.Injected)
	assert.Zero(t, s.Passed, "calls made while off are not counted")
}

func TestFaultCountsAsFailure(t *testing.T) {
	inj, err := chaos.Fault(errReset, chaos.Config{Name: "bank outage", On: true})
	require.NoError(t, err)
	ctx := context.Background()
	err = resilience.Run(ctx, func(context.Context) error { t.Error("called"); return nil }, inj)
	require.ErrorIs(t, err, chaos.ErrInjected)
	require.ErrorIs(t, err, errReset)
	var ie *chaos.InjectedError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "bank outage", ie.Name)
	assert.Equal(t, chaos.KindFault, ie.Kind)
	assert.Equal(t, `chaos: injected fault "bank outage": connection reset`, err.Error())
	assert.False(t, resilience.IsRejected(err), "an injected fault is not a rejection")
	assert.Equal(t, resilience.Failure, resilience.DefaultOutcome(ctx, err))

	// A policy outside the injector counts it as the failure it stands for.
	thr, err := throttle.New(throttle.Config{Seed: 1})
	require.NoError(t, err)
	err = resilience.Run(ctx, func(context.Context) error { return nil }, thr, inj)
	require.ErrorIs(t, err, chaos.ErrInjected)
	assert.Equal(t, uint64(1), thr.Snapshot().Failures)

	bare, err := chaos.Fault(nil, chaos.Config{On: true})
	require.NoError(t, err)
	err = resilience.Run(ctx, func(context.Context) error { return nil }, bare)
	assert.Equal(t, chaos.ErrInjected.Error(), err.Error())
	assert.ErrorIs(t, err, chaos.ErrInjected)
}

func TestInjectedErrorMadeByHand(t *testing.T) {
	err := &chaos.InjectedError{Err: errReset}
	assert.ErrorIs(t, err, chaos.ErrInjected)
	assert.ErrorIs(t, err, errReset)
}

// picks returns, for n calls, which ones an injector of the config chose.
func picks(t *testing.T, cfg chaos.Config, n int) []bool {
	t.Helper()
	inj, err := chaos.Fault(errReset, cfg)
	require.NoError(t, err)
	out := make([]bool, n)
	for i := range out {
		out[i] = resilience.Run(context.Background(), func(context.Context) error { return nil }, inj) != nil
	}
	return out
}

func TestRateIsSeeded(t *testing.T) {
	cfg := chaos.Config{Rate: 0.3, Seed: 99, On: true}
	first := picks(t, cfg, 10000)
	assert.Equal(t, first, picks(t, cfg, 10000), "same seed, same picks")
	cfg.Seed = 100
	assert.NotEqual(t, first, picks(t, cfg, 10000), "another seed, other picks")

	injected := 0
	for _, p := range first {
		if p {
			injected++
		}
	}
	// 3000 expected; the standard deviation is about 46.
	assert.InDelta(t, 3000, injected, 250)
}

func TestEnabledFunc(t *testing.T) {
	type key struct{}
	inj, err := chaos.Fault(errReset, chaos.Config{On: true, Enabled: func(ctx context.Context) bool {
		return ctx.Value(key{}) == "drill"
	}})
	require.NoError(t, err)
	ok := func(context.Context) error { return nil }
	assert.NoError(t, resilience.Run(context.Background(), ok, inj))
	assert.ErrorIs(t, resilience.Run(context.WithValue(context.Background(), key{}, "drill"), ok, inj), chaos.ErrInjected)
	s := inj.Snapshot()
	assert.Equal(t, uint64(1), s.Injected)
	assert.Zero(t, s.Passed, "a call Enabled refuses is not counted")
}

func TestLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inj, err := chaos.Latency(250*time.Millisecond, chaos.Config{On: true})
		require.NoError(t, err)
		var calls atomic.Int64
		start := time.Now()
		require.NoError(t, resilience.Run(context.Background(), counting(&calls), inj))
		assert.Equal(t, 250*time.Millisecond, time.Since(start))
		assert.Equal(t, int64(1), calls.Load())
	})
}

func TestLatencyEndsWithTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inj, err := chaos.Latency(time.Second, chaos.Config{On: true})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		var calls atomic.Int64
		start := time.Now()
		err = resilience.Run(ctx, counting(&calls), inj)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		assert.Zero(t, calls.Load(), "the call is not made after the caller gave up")
		assert.Equal(t, resilience.Failure, resilience.DefaultOutcome(ctx, err),
			"a deadline passing in an injected wait is a failure, as for a slow dependency")
	})
}

func TestLatencyOnAMockClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := clock.NewMock()
		inj, err := chaos.Latency(time.Minute, chaos.Config{On: true, Clock: clk})
		require.NoError(t, err)
		var calls atomic.Int64
		done := make(chan error)
		go func() { done <- resilience.Run(context.Background(), counting(&calls), inj) }()
		synctest.Wait()
		assert.Zero(t, calls.Load(), "still waiting")
		clk.Add(time.Minute)
		require.NoError(t, <-done)
		assert.Equal(t, int64(1), calls.Load())
	})
}

func TestResult(t *testing.T) {
	inj, err := chaos.Result("canned", chaos.Config{On: true})
	require.NoError(t, err)
	p := resilience.NewPipeline[string](inj)
	v, err := p.Execute(context.Background(), func(context.Context) (string, error) {
		t.Error("called")
		return "real", nil
	})
	require.NoError(t, err)
	assert.Equal(t, "canned", v)

	wrong := resilience.NewPipeline[int](inj)
	_, err = wrong.Execute(context.Background(), func(context.Context) (int, error) { return 1, nil })
	assert.ErrorContains(t, err, "string")
}

func TestBehavior(t *testing.T) {
	var seen atomic.Int64
	inj, err := chaos.Behavior(func(ctx context.Context) error {
		if seen.Add(1) == 2 {
			return errReset
		}
		return nil
	}, chaos.Config{Name: "flaky link", On: true})
	require.NoError(t, err)
	var calls atomic.Int64
	require.NoError(t, resilience.Run(context.Background(), counting(&calls), inj))
	assert.Equal(t, int64(1), calls.Load(), "a behaviour returning nil lets the call go on")

	err = resilience.Run(context.Background(), counting(&calls), inj)
	require.ErrorIs(t, err, chaos.ErrInjected)
	require.ErrorIs(t, err, errReset)
	var ie *chaos.InjectedError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, chaos.KindBehavior, ie.Kind)
	assert.Equal(t, int64(1), calls.Load(), "a behaviour's error ends the call")
}

func TestNilInjector(t *testing.T) {
	var inj *chaos.Injector
	err := resilience.Run(context.Background(), func(context.Context) error { return nil }, inj)
	assert.ErrorIs(t, err, chaos.ErrNilInjector)
	inj.Enable()
	inj.Disable()
	assert.False(t, inj.On())
	assert.Zero(t, inj.Kind())
	assert.Equal(t, chaos.Snapshot{}, inj.Snapshot())
}

func TestConcurrentCallsAreCountedOnce(t *testing.T) {
	inj, err := chaos.Fault(errReset, chaos.Config{Rate: 0.5, Seed: 3, On: true})
	require.NoError(t, err)
	var injected atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				if resilience.Run(context.Background(), func(context.Context) error { return nil }, inj) != nil {
					injected.Add(1)
				}
			}
		})
	}
	wg.Wait()
	s := inj.Snapshot()
	assert.Equal(t, uint64(4000), s.Injected+s.Passed)
	assert.Equal(t, uint64(injected.Load()), s.Injected)
}

func TestKindString(t *testing.T) {
	assert.Equal(t, "latency", chaos.KindLatency.String())
	assert.Equal(t, "unknown", chaos.Kind(42).String())
}
