package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

func TestPolicyRejectsAtOnce(t *testing.T) {
	mock := clock.NewMock()
	var events []resilience.Event
	l, err := ratelimit.NewWithConfig(ratelimit.Config{
		Rate: ratelimit.Every(250 * time.Millisecond), Burst: 1, Name: "bank", Clock: mock,
		Listeners: resilience.Listeners{func(e resilience.Event) { events = append(events, e) }},
	})
	require.NoError(t, err)
	p, err := ratelimit.NewPolicy[string](l, 0)
	require.NoError(t, err)
	calls := 0
	f := p.Wrap(func(context.Context) (string, error) { calls++; return "ok", nil })

	v, err := f(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "ok", v)
	mock.Add(100 * time.Millisecond)
	v, err = f(context.Background())
	assert.Empty(t, v)
	assert.Equal(t, 1, calls, "a rejected call must not reach the function")
	assert.True(t, resilience.IsRejected(err))
	assert.ErrorIs(t, err, ratelimit.ErrLimited)
	rej, ok := resilience.AsRejection(err)
	require.True(t, ok)
	assert.Equal(t, resilience.Rejection{Policy: "ratelimit", Name: "bank", Reason: ratelimit.ErrLimited, RetryAfter: 150 * time.Millisecond}, rej)
	assert.EqualError(t, err, `ratelimit: rate limited (name "bank", retry after 150ms)`)
	require.Len(t, events, 1)
	assert.Equal(t, resilience.EventRejection, events[0].Kind)
	assert.Equal(t, "bank", events[0].Name)
	assert.Same(t, err, events[0].Err)
}

func TestPolicyWaitsUpToMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := ratelimit.New(ratelimit.Every(100*time.Millisecond), 1)
		require.NoError(t, err)
		p, err := ratelimit.NewPolicy[int](l, 150*time.Millisecond)
		require.NoError(t, err)
		f := p.Wrap(func(context.Context) (int, error) { return 7, nil })
		start := time.Now()
		for i, want := range []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond} {
			v, err := f(t.Context())
			require.NoError(t, err, "call %d", i)
			assert.Equal(t, 7, v)
			assert.Equal(t, want, time.Since(start), "call %d", i)
		}
		// Two queued ahead: a third would wait 200ms > MaxWait.
		require.True(t, l.ReserveN(1).OK())
		_, err = f(t.Context())
		assert.ErrorIs(t, err, ratelimit.ErrLimited)
		d, _ := resilience.RetryAfter(err)
		assert.Equal(t, 200*time.Millisecond, d)
		assert.Equal(t, 200*time.Millisecond, time.Since(start), "refused without waiting")
	})
}

func TestPolicyPassesThroughWithoutObservingOutcomes(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Inf, 1)
	require.NoError(t, err)
	p, err := ratelimit.NewPolicy[int](l, time.Second)
	require.NoError(t, err)
	boom := errors.New("boom")
	_, err = p.Wrap(func(context.Context) (int, error) { return 0, boom })(context.Background())
	assert.Same(t, boom, err)
	assert.PanicsWithValue(t, "kaboom", func() {
		_, _ = p.Wrap(func(context.Context) (int, error) { panic("kaboom") })(context.Background())
	})
	_, err = p.Wrap(nil)(context.Background())
	assert.ErrorIs(t, err, resilience.ErrNilFunc)
}

func TestNewPolicyRejectsBadArguments(t *testing.T) {
	_, err := ratelimit.NewPolicy[int](nil, 0)
	assert.ErrorIs(t, err, ratelimit.ErrNilLimiter)
	l, err := ratelimit.New(ratelimit.PerSecond(1), 1)
	require.NoError(t, err)
	_, err = ratelimit.NewPolicy[int](l, -time.Second)
	assert.EqualError(t, err, "ratelimit: MaxWait must not be negative, got -1s")
}

type merchantKey struct{}

func TestKeyedPolicy(t *testing.T) {
	mock := clock.NewMock()
	k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Minute), Burst: 1, MaxKeys: 2, Name: "per-merchant", Clock: mock})
	require.NoError(t, err)
	p, err := ratelimit.NewKeyedPolicy[string](k, func(ctx context.Context) string {
		m, _ := ctx.Value(merchantKey{}).(string)
		return m
	})
	require.NoError(t, err)
	charge := p.Wrap(func(ctx context.Context) (string, error) { return "charged " + ctx.Value(merchantKey{}).(string), nil })
	as := func(m string) context.Context { return context.WithValue(context.Background(), merchantKey{}, m) }

	v, err := charge(as("acme"))
	require.NoError(t, err)
	assert.Equal(t, "charged acme", v)
	_, err = charge(as("acme"))
	assert.ErrorIs(t, err, ratelimit.ErrLimited)
	rej, ok := resilience.AsRejection(err)
	require.True(t, ok)
	assert.Equal(t, resilience.Rejection{Policy: "ratelimit", Name: "per-merchant", Reason: ratelimit.ErrLimited, RetryAfter: time.Minute}, rej)
	_, err = charge(as("globex"))
	require.NoError(t, err, "another merchant has its own limit")
	_, err = charge(as("initech"))
	assert.ErrorIs(t, err, ratelimit.ErrTooManyKeys)
	assert.True(t, resilience.IsRejected(err))

	_, err = ratelimit.NewKeyedPolicy[string](nil, func(context.Context) string { return "" })
	assert.ErrorIs(t, err, ratelimit.ErrNilLimiter)
	_, err = ratelimit.NewKeyedPolicy[string](k, nil)
	assert.EqualError(t, err, "ratelimit: NewKeyedPolicy needs a key function")
}
