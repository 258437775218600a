package fallback_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/fallback"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestLastGoodWithinMaxAge(t *testing.T) {
	mock := clock.NewMock()
	last, err := fallback.NewLastGood[string](time.Minute, mock)
	require.NoError(t, err)
	healthy := true
	call := last.Policy().Wrap(func(context.Context) (string, error) {
		if healthy {
			return "1.0842", nil
		}
		return "", errDown
	})

	_, err = call(context.Background())
	require.NoError(t, err)
	healthy = false
	mock.Add(time.Minute)
	ctx, rep := fallback.WithReport(context.Background())
	v, err := call(ctx)
	assert.NoError(t, err)
	assert.Equal(t, "1.0842", v)
	assert.Equal(t, time.Minute, rep.Age())

	mock.Add(time.Nanosecond)
	_, err = call(context.Background())
	assert.ErrorIs(t, err, fallback.ErrStale)
	assert.ErrorIs(t, err, errDown)
	assert.ErrorContains(t, err, "1m0.000000001s old, limit 1m0s")
}

// Only results that came back without an error feed the cache: an error a
// classifier calls a success carries no value worth keeping.
func TestLastGoodObservesOnlyRealResults(t *testing.T) {
	last, err := fallback.NewLastGood[string](time.Minute, clock.NewMock())
	require.NoError(t, err)
	p := resilience.NewPipeline[string](last.Policy()).WithClassifier(func(_ context.Context, _ string, err error) resilience.Outcome {
		if errors.Is(err, errNotFound) {
			return resilience.Success
		}
		return resilience.Unclassified
	})
	_, err = p.Execute(context.Background(), func(context.Context) (string, error) { return "", errNotFound })
	assert.ErrorIs(t, err, errNotFound)
	_, _, ok := last.Get()
	assert.False(t, ok)
}

// Model: LastGood answers exactly when a value was observed at most maxAge
// ago, and answers the most recent one.
func TestLastGoodModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		mock := clock.NewMock()
		maxAge := time.Duration(rapid.Int64Range(1, 1000).Draw(t, "maxAge"))
		last, err := fallback.NewLastGood[int](maxAge, mock)
		require.NoError(t, err)
		var (
			have   bool
			value  int
			seenAt time.Time
		)
		t.Repeat(map[string]func(*rapid.T){
			"observe": func(t *rapid.T) {
				value = rapid.Int().Draw(t, "v")
				last.Observe(value)
				have, seenAt = true, mock.Now()
			},
			"advance": func(t *rapid.T) {
				mock.Set(mock.Now().Add(time.Duration(rapid.Int64Range(0, 600).Draw(t, "d"))))
			},
			"": func(t *rapid.T) {
				v, err := last.Alternative(context.Background(), errDown)
				switch {
				case !have:
					require.ErrorIs(t, err, fallback.ErrNoValue)
				case mock.Now().Sub(seenAt) > maxAge:
					require.ErrorIs(t, err, fallback.ErrStale)
				default:
					require.NoError(t, err)
					require.Equal(t, value, v)
				}
			},
		})
	})
}

func TestNewLastGoodRefusesAMaxAgeThatIsNotPositive(t *testing.T) {
	for _, maxAge := range []time.Duration{0, -time.Second} {
		l, err := fallback.NewLastGood[int](maxAge, nil)
		assert.Nil(t, l)
		var ce *resilience.ConfigError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, resilience.ConfigError{Component: "fallback", Field: "maxAge", Rule: "must be positive", Value: maxAge}, *ce)
	}
}

func TestNilLastGoodNeverPanics(t *testing.T) {
	var l *fallback.LastGood[int]
	assert.NotPanics(t, func() {
		l.Observe(1)
		_, _, ok := l.Get()
		assert.False(t, ok)
		_, err := l.Alternative(context.Background(), errDown)
		assert.ErrorIs(t, err, fallback.ErrNoValue)
		_, err = l.Policy().Wrap(func(context.Context) (int, error) { return 1, nil })(context.Background())
		assert.ErrorIs(t, err, resilience.ErrNilPolicy)
	})
}
