package fallback_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/fallback"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errDown = errors.New("fx: 500")

func fails(context.Context) (string, error)    { return "", errDown }
func succeeds(context.Context) (string, error) { return "live", nil }

func TestValueAnswersForFailuresOnly(t *testing.T) {
	p := resilience.NewPipeline[string](fallback.Value("cached"))
	ctx, rep := fallback.WithReport(context.Background())
	v, err := p.Execute(ctx, fails)
	assert.Equal(t, "cached", v)
	assert.NoError(t, err)
	assert.True(t, rep.Used())
	assert.Same(t, errDown, rep.Cause())

	ctx, rep = fallback.WithReport(context.Background())
	v, err = p.Execute(ctx, succeeds)
	assert.Equal(t, "live", v)
	assert.NoError(t, err)
	assert.False(t, rep.Used(), "a real result is not reported as a fallback")
}

func TestFuncOfTheError(t *testing.T) {
	p := fallback.Func(func(_ context.Context, err error) (string, error) { return "because " + err.Error(), nil })
	v, err := p.Wrap(fails)(context.Background())
	assert.NoError(t, err)
	assert.Equal(t, "because fx: 500", v)
}

func TestNeverAnswersForTheCallersOwnCancellation(t *testing.T) {
	used := false
	p := fallback.Func(func(context.Context, error) (string, error) { used = true; return "x", nil })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Wrap(func(ctx context.Context) (string, error) { return "", ctx.Err() })(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, used)
}

// The default rules count the caller's deadline passing during the call
// as the dependency's failure (it did not answer in the time it was
// given), so the fallback answers for it.
func TestAnswersWhenTheCallersDeadlinePassesDuringTheCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		v, err := fallback.Value("cached").Wrap(func(ctx context.Context) (string, error) {
			<-ctx.Done() // a dependency that hangs
			return "", ctx.Err()
		})(ctx)
		assert.NoError(t, err)
		assert.Equal(t, "cached", v)
	})
}

func TestAnswersForRejections(t *testing.T) {
	open := errors.New("breaker: circuit open")
	refuse := resilience.GuardFunc(func(context.Context, resilience.Next) error {
		return resilience.Reject("breaker", "fx", open, time.Second)
	})
	reached := false
	p := resilience.NewPipeline[string](fallback.Value("cached"), refuse)
	ctx, rep := fallback.WithReport(context.Background())
	v, err := p.Execute(ctx, func(context.Context) (string, error) { reached = true; return "live", nil })
	assert.NoError(t, err)
	assert.Equal(t, "cached", v)
	assert.False(t, reached)
	assert.ErrorIs(t, rep.Cause(), open)
}

// A result the pipeline's classifier judges a failure reaches the fallback
// as a failure; an error it judges a success does not.
func TestPipelineClassifierVerdicts(t *testing.T) {
	p := resilience.NewPipeline[string](fallback.Value("cached")).WithClassifier(
		func(_ context.Context, v string, err error) resilience.Outcome {
			switch {
			case v == "503":
				return resilience.Failure
			case errors.Is(err, errNotFound):
				return resilience.Success
			}
			return resilience.Unclassified
		})
	v, err := p.Execute(context.Background(), func(context.Context) (string, error) { return "503", nil })
	assert.NoError(t, err)
	assert.Equal(t, "cached", v)
	_, err = p.Execute(context.Background(), func(context.Context) (string, error) { return "", errNotFound })
	assert.Same(t, errNotFound, err, "an answer, not a failure: no fallback")
}

var errNotFound = errors.New("fx: no such currency")

func TestConfigClassify(t *testing.T) {
	p := fallback.New(fallback.Static("cached"), fallback.Config[string]{
		Classify: resilience.Classify(func(_ context.Context, v string, err error) resilience.Outcome {
			if v == "503" {
				return resilience.Failure
			}
			return resilience.Unclassified
		})})
	v, err := p.Wrap(func(context.Context) (string, error) { return "503", nil })(context.Background())
	assert.NoError(t, err)
	assert.Equal(t, "cached", v)
}

func TestWhenNothingAnswersBothErrorsSurvive(t *testing.T) {
	p := fallback.New(fallback.Chain(
		func(context.Context, error) (string, error) { return "", errors.New("secondary down") },
		func(context.Context, error) (string, error) { return "", fallback.ErrNoValue },
	), fallback.Config[string]{})
	ctx, rep := fallback.WithReport(context.Background())
	_, err := p.Wrap(fails)(ctx)
	assert.ErrorIs(t, err, errDown, "the original failure stays visible")
	assert.ErrorIs(t, err, fallback.ErrNoValue)
	var fe *fallback.Error
	require.ErrorAs(t, err, &fe)
	assert.Same(t, errDown, fe.Err)
	assert.EqualError(t, err, "fallback: no alternative answered: fx: 500; secondary down\nfallback: no good value seen yet")
	assert.False(t, rep.Used())
	assert.Equal(t, resilience.Failure, resilience.DefaultOutcome(context.Background(), err))

	_, err = fallback.New(fallback.Chain[string](), fallback.Config[string]{}).Wrap(fails)(context.Background())
	assert.ErrorIs(t, err, fallback.ErrNoAlternative, "an empty chain never answers with a zero value")
}

// Fallback events are per call: built only for a listener that wants them.
func TestEventsOnlyWhenWanted(t *testing.T) {
	rec := resiliencetest.NewRecorder()
	changes := 0
	for _, ls := range []resilience.Listeners{{rec.Listener()}, {resilience.OnStateChange(func(resilience.Event) { changes++ })}} {
		secondary := func(context.Context, error) (string, error) { return "", errors.New("secondary down") }
		p := fallback.New(fallback.Chain(secondary, fallback.Static("x")),
			fallback.Config[string]{Name: "fx", Clock: clock.NewMock(), Listeners: ls})
		_, err := p.Wrap(fails)(context.Background())
		require.NoError(t, err)
	}
	events := rec.Events()
	require.Len(t, events, 1)
	assert.Equal(t, resilience.EventFallback, events[0].Kind)
	assert.Equal(t, "fallback", events[0].Policy)
	assert.Equal(t, "fx", events[0].Name)
	assert.Equal(t, "alternative 1", events[0].Reason, "the chain's level, without a caller's report")
	assert.Same(t, errDown, events[0].Err)
	assert.Zero(t, changes)
}

func TestPanicsAreNotPaperedOver(t *testing.T) {
	call := fallback.Value("x").Wrap(func(context.Context) (string, error) { panic("bug") })
	assert.PanicsWithValue(t, "bug", func() { _, _ = call(context.Background()) })
}

func TestBadArgumentsFailCallsWithoutPanicking(t *testing.T) {
	var nilPolicy *fallback.Policy[string]
	var zero fallback.Policy[string]
	for name, g := range map[string]*fallback.Policy[string]{
		"nil alternative": fallback.New[string](nil, fallback.Config[string]{}),
		"nil func":        fallback.Func[string](nil),
		"nil policy":      nilPolicy,
		"zero policy":     &zero,
	} {
		t.Run(name, func(t *testing.T) {
			reached := false
			_, err := resilience.NewPipeline[string](g).Execute(context.Background(), func(context.Context) (string, error) {
				reached = true
				return "", nil
			})
			assert.ErrorIs(t, err, resilience.ErrNilPolicy)
			assert.False(t, reached)
		})
	}
	_, err := fallback.Value("x").Wrap(nil)(context.Background())
	assert.ErrorIs(t, err, resilience.ErrNilFunc)
}

// A Policy[string] in a pipeline of another type, or in an error-only
// chain, refuses every call rather than answer with the wrong type.
func TestWrongResultType(t *testing.T) {
	reached := false
	_, err := resilience.NewPipeline[int](fallback.Value("x")).Execute(context.Background(),
		func(context.Context) (int, error) { reached = true; return 1, nil })
	assert.ErrorContains(t, err, "fallback: Policy[string] in a pipeline of another result type")
	err = resilience.Run(context.Background(), func(context.Context) error { reached = true; return nil }, fallback.Value("x"))
	assert.ErrorContains(t, err, "fallback: Policy[string]")
	assert.False(t, reached)
}

// One fallback nested in a pipeline inside another of the same type.
func TestNestedPipelines(t *testing.T) {
	inner := resilience.NewPipeline[string](fallback.Value("inner"))
	outer := resilience.NewPipeline[string](fallback.Value("outer"), inner)
	v, err := outer.Execute(context.Background(), fails)
	assert.NoError(t, err)
	assert.Equal(t, "inner", v)
}
