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

var errDown = errors.New("fx: 500")

func fails(context.Context) (string, error)    { return "", errDown }
func succeeds(context.Context) (string, error) { return "live", nil }

func wrap(t *testing.T, alt fallback.Alternative[string], cfg fallback.Config[string], fn resilience.Func[string]) resilience.Func[string] {
	t.Helper()
	p, err := fallback.New(alt, cfg)
	require.NoError(t, err)
	return p.Wrap(fn)
}

func TestStaticAnswersForFailuresOnly(t *testing.T) {
	call := wrap(t, fallback.Static("cached"), fallback.Config[string]{}, fails)
	ctx, rep := fallback.WithReport(context.Background())
	v, err := call(ctx)
	assert.Equal(t, "cached", v)
	assert.NoError(t, err)
	assert.True(t, rep.Used())
	assert.Same(t, errDown, rep.Cause())

	ctx, rep = fallback.WithReport(context.Background())
	v, err = wrap(t, fallback.Static("cached"), fallback.Config[string]{}, succeeds)(ctx)
	assert.Equal(t, "live", v)
	assert.NoError(t, err)
	assert.False(t, rep.Used(), "a real result is not reported as a fallback")
}

func TestFunctionOfTheError(t *testing.T) {
	alt := func(_ context.Context, err error) (string, error) { return "because " + err.Error(), nil }
	v, err := wrap(t, alt, fallback.Config[string]{}, fails)(context.Background())
	assert.NoError(t, err)
	assert.Equal(t, "because fx: 500", v)
}

func TestNeverAnswersForTheCallersOwnCancellation(t *testing.T) {
	used := false
	alt := func(context.Context, error) (string, error) { used = true; return "x", nil }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := wrap(t, alt, fallback.Config[string]{}, func(ctx context.Context) (string, error) { return "", ctx.Err() })(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, used)
}

func TestAnswersForRejections(t *testing.T) {
	open := errors.New("breaker: circuit open")
	refused := func(context.Context) (string, error) {
		return "", resilience.Reject("breaker", "fx", open, time.Second)
	}
	ctx, rep := fallback.WithReport(context.Background())
	v, err := wrap(t, fallback.Static("cached"), fallback.Config[string]{}, refused)(ctx)
	assert.NoError(t, err)
	assert.Equal(t, "cached", v)
	assert.ErrorIs(t, rep.Cause(), open)
}

func TestResultJudgedAFailure(t *testing.T) {
	cfg := fallback.Config[string]{Classify: resilience.Classify(func(_ context.Context, v string, err error) resilience.Outcome {
		if v == "503" {
			return resilience.Failure
		}
		return resilience.Unclassified
	})}
	v, err := wrap(t, fallback.Static("cached"), cfg, func(context.Context) (string, error) { return "503", nil })(context.Background())
	assert.NoError(t, err)
	assert.Equal(t, "cached", v)
}

func TestChainTriesInOrderAndReportsTheLevel(t *testing.T) {
	var tried []string
	alt := func(name string, ok bool) fallback.Alternative[string] {
		return func(context.Context, error) (string, error) {
			tried = append(tried, name)
			if !ok {
				return "", errors.New(name + " down")
			}
			return name, nil
		}
	}
	chain := fallback.Chain(alt("secondary", false), nil, alt("cached", true), alt("never", true))
	ctx, rep := fallback.WithReport(context.Background())
	v, err := wrap(t, chain, fallback.Config[string]{}, fails)(ctx)
	assert.NoError(t, err)
	assert.Equal(t, "cached", v)
	assert.Equal(t, []string{"secondary", "cached"}, tried)
	assert.Equal(t, 1, rep.Level())
}

func TestWhenNothingAnswersBothErrorsSurvive(t *testing.T) {
	chain := fallback.Chain(
		func(context.Context, error) (string, error) { return "", errors.New("secondary down") },
		func(context.Context, error) (string, error) { return "", fallback.ErrNoValue },
	)
	ctx, rep := fallback.WithReport(context.Background())
	_, err := wrap(t, chain, fallback.Config[string]{}, fails)(ctx)
	assert.ErrorIs(t, err, errDown, "the original failure stays visible")
	assert.ErrorIs(t, err, fallback.ErrNoValue)
	assert.EqualError(t, err, "fallback: no alternative answered: fx: 500; secondary down\nfallback: no good value seen yet")
	assert.False(t, rep.Used())
	assert.Equal(t, resilience.Failure, resilience.DefaultOutcome(context.Background(), err))
}

func TestLastGoodWithinMaxAge(t *testing.T) {
	mock := clock.NewMock()
	last, err := fallback.NewLastGood[string](time.Minute, mock)
	require.NoError(t, err)
	healthy := true
	call := wrap(t, last.Alternative, fallback.Config[string]{Observe: last.Observe}, func(context.Context) (string, error) {
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

func TestEventsAndPanics(t *testing.T) {
	var events []resilience.Event
	cfg := fallback.Config[string]{Name: "fx", Clock: clock.NewMock(),
		Listeners: resilience.Listeners{func(e resilience.Event) { events = append(events, e) }}}
	_, _ = wrap(t, fallback.Static("x"), cfg, fails)(context.Background())
	require.Len(t, events, 1)
	assert.Equal(t, resilience.EventFallback, events[0].Kind)
	assert.Equal(t, "fx", events[0].Name)
	assert.Same(t, errDown, events[0].Err)

	call := wrap(t, fallback.Static("x"), cfg, func(context.Context) (string, error) { panic("bug") })
	assert.PanicsWithValue(t, "bug", func() { _, _ = call(context.Background()) }, "a panic is not a failure to paper over")
}

func TestBadConfig(t *testing.T) {
	_, err := fallback.New[string](nil, fallback.Config[string]{})
	assert.EqualError(t, err, "fallback: Alternative must not be nil")
	_, err = fallback.NewLastGood[int](0, nil)
	assert.EqualError(t, err, "fallback: LastGood maxAge must be positive, got 0s")
	p, _ := fallback.New(fallback.Static("x"), fallback.Config[string]{})
	_, err = p.Wrap(nil)(context.Background())
	assert.ErrorIs(t, err, resilience.ErrNilFunc)
	var nilReport *fallback.Report
	assert.False(t, nilReport.Used())
	assert.NoError(t, nilReport.Cause())
	assert.Zero(t, nilReport.Level())
	assert.Zero(t, nilReport.Age())
}
