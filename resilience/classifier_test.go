package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/riprap-go/riprap/resilience"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type response struct{ code int }

var errNotFound = errors.New("bank: account not found")

// byCode judges 5xx responses failures, "not found" a success, 4xx
// ignored, and leaves the rest to the default.
func byCode(_ context.Context, r response, err error) resilience.Outcome {
	switch {
	case errors.Is(err, errNotFound):
		return resilience.Success
	case err == nil && r.code >= 500:
		return resilience.Failure
	case err == nil && r.code >= 400:
		return resilience.Ignored
	}
	return resilience.Unclassified
}

// judgeSpy records what a guard such as a breaker sees: the error and its
// verdict under DefaultOutcome.
type judgeSpy struct {
	err     error
	outcome resilience.Outcome
}

func (s *judgeSpy) Guard(ctx context.Context, next resilience.Next) error {
	s.err = next.Run(ctx)
	s.outcome = resilience.DefaultOutcome(ctx, s.err)
	return s.err
}

func TestWithClassifierTellsGuardsTheVerdictAndTheCallerTheTruth(t *testing.T) {
	tests := []struct {
		name        string
		v           response
		err         error
		guardSees   resilience.Outcome
		judged      bool // the guard's error is a *Judged
		callerValue response
	}{
		{"503 result judged a failure", response{503}, nil, resilience.Failure, true, response{503}},
		{"not found judged a success", response{}, errNotFound, resilience.Success, true, response{}},
		{"wrapped not found judged a success", response{}, fmt.Errorf("get: %w", errNotFound), resilience.Success, true, response{}},
		{"404 result ignored", response{404}, nil, resilience.Ignored, true, response{404}},
		{"200 result, default", response{200}, nil, resilience.Success, false, response{200}},
		{"other error, default", response{}, errBank, resilience.Failure, false, response{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spy := &judgeSpy{}
			p := resilience.NewPipeline[response](spy).WithClassifier(byCode)
			v, err := p.Execute(context.Background(), func(context.Context) (response, error) { return tt.v, tt.err })

			assert.Equal(t, tt.guardSees, spy.outcome, "guard's verdict")
			var j *resilience.Judged
			assert.Equal(t, tt.judged, errors.As(spy.err, &j), "guard saw a *Judged: %v", spy.err)
			if !tt.judged {
				assert.True(t, spy.err == tt.err, "an agreeing verdict leaves the error as it was")
			}
			assert.Equal(t, tt.callerValue, v)
			assert.True(t, err == tt.err, "caller got %v, want exactly %v", err, tt.err)
		})
	}
}

// A retry counts a result judged a failure as a failure and repeats it.
func TestWithClassifierDrivesARetry(t *testing.T) {
	retry := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		var err error
		for range 3 {
			if err = next.Run(ctx); resilience.DefaultOutcome(ctx, err) != resilience.Failure {
				return err
			}
		}
		return err
	})
	codes := []int{503, 502, 200}
	calls := 0
	fn := func(context.Context) (response, error) {
		calls++
		return response{codes[calls-1]}, nil
	}
	v, err := resilience.NewPipeline[response](retry).WithClassifier(byCode).Execute(context.Background(), fn)
	assert.NoError(t, err)
	assert.Equal(t, response{200}, v)
	assert.Equal(t, 3, calls)

	// When every attempt is judged a failure, the caller still gets the
	// last value and no error: the function itself never failed.
	calls, codes = 0, []int{503, 503, 503}
	v, err = resilience.NewPipeline[response](retry).WithClassifier(byCode).Execute(context.Background(), fn)
	assert.NoError(t, err)
	assert.Equal(t, response{503}, v)
}

// A guard that wraps a failure verdict in an error of its own (a retry out
// of attempts) still hands the caller the last result and no error: the
// function itself never failed, and an HTTP caller must see the response to
// read and close it.
func TestWithClassifierVerdictWrappedByAGuard(t *testing.T) {
	gaveUp := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		if err := next.Run(ctx); err != nil {
			return fmt.Errorf("retry: gave up: %w", err)
		}
		return nil
	})
	p := resilience.NewPipeline[response](gaveUp).WithClassifier(byCode)
	v, err := p.Execute(context.Background(), func(context.Context) (response, error) { return response{503}, nil })
	assert.NoError(t, err)
	assert.Equal(t, response{503}, v)

	// A verdict of success on an error wrapped by the guard: the guard's
	// error stands.
	p = resilience.NewPipeline[response](gaveUp).WithClassifier(
		func(context.Context, response, error) resilience.Outcome { return resilience.Success })
	_, err = p.Execute(context.Background(), func(context.Context) (response, error) { return response{404}, errNotFound })
	require.Error(t, err)
	assert.ErrorIs(t, err, errNotFound)
	var j *resilience.Judged
	require.ErrorAs(t, err, &j)
	assert.Equal(t, resilience.Success, j.Outcome)
}

func TestWithClassifierReturnsACopy(t *testing.T) {
	spy := &judgeSpy{}
	plain := resilience.NewPipeline[response](spy)
	judged := plain.WithClassifier(byCode)
	assert.Equal(t, 1, judged.Len())
	fn := func(context.Context) (response, error) { return response{503}, nil }

	_, _ = plain.Execute(context.Background(), fn)
	assert.Equal(t, resilience.Success, spy.outcome, "the original pipeline keeps no classifier")
	_, _ = judged.Execute(context.Background(), fn)
	assert.Equal(t, resilience.Failure, spy.outcome)
	_, _ = judged.WithClassifier(nil).Execute(context.Background(), fn)
	assert.Equal(t, resilience.Success, spy.outcome, "a nil classifier removes it")

	var zero resilience.Pipeline[response]
	v, err := zero.WithClassifier(byCode).Execute(context.Background(), fn)
	assert.NoError(t, err)
	assert.Equal(t, response{503}, v)
}

// An inner pipeline's verdict reaches the outer pipeline's guards, and the
// caller still sees what the function returned.
func TestWithClassifierInANestedPipeline(t *testing.T) {
	outerSpy, innerSpy := &judgeSpy{}, &judgeSpy{}
	inner := resilience.NewPipeline[response](innerSpy).WithClassifier(byCode)
	notFoundIgnored := func(_ context.Context, _ response, err error) resilience.Outcome {
		if errors.Is(err, errNotFound) {
			return resilience.Ignored
		}
		return resilience.Unclassified
	}
	outer := resilience.NewPipeline[response](outerSpy, inner).WithClassifier(notFoundIgnored)

	v, err := outer.Execute(context.Background(), func(context.Context) (response, error) { return response{503}, nil })
	assert.NoError(t, err)
	assert.Equal(t, response{503}, v)
	assert.Equal(t, resilience.Failure, outerSpy.outcome)

	v, err = outer.Execute(context.Background(), func(context.Context) (response, error) { return response{}, errNotFound })
	assert.True(t, err == errNotFound, "got %v", err)
	assert.Zero(t, v)
	assert.Equal(t, resilience.Success, innerSpy.outcome, "the inner classifier has the last word inside it")
	assert.Equal(t, resilience.Success, outerSpy.outcome)
}

func TestJudgedText(t *testing.T) {
	assert.Equal(t, "resilience: result judged failure", (&resilience.Judged{Outcome: resilience.Failure}).Error())
	assert.Equal(t, "resilience: result judged ignored", (&resilience.Judged{Outcome: resilience.Ignored}).Error())
	j := &resilience.Judged{Outcome: resilience.Success, Err: errNotFound}
	assert.Equal(t, errNotFound.Error(), j.Error())
	assert.ErrorIs(t, j, errNotFound)
}
