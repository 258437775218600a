package resilience_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/riprap-go/riprap/resilience"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errBank = errors.New("bank: 500")

// tracer appends "+id" on the way in and "-id" on the way out.
func tracer(id string, log *[]string) resilience.Guard {
	return resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		*log = append(*log, "+"+id)
		defer func() { *log = append(*log, "-"+id) }()
		return next.Run(ctx)
	})
}

// pass runs the rest of the pipeline once and changes nothing.
var pass = resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error { return next.Run(ctx) })

type attemptKey struct{}

// hedge runs two forks of the call in parallel and adopts the one numbered
// winner, whatever order they finish in. The function reads the attempt's
// number from ctx (fine for a test; real code passes arguments in closures).
func hedge(winner int) resilience.Guard {
	return resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		forks := []resilience.Next{next.Fork(), next.Fork()}
		errs := make([]error, len(forks))
		var wg sync.WaitGroup
		for i, f := range forks {
			wg.Go(func() { errs[i] = f.Run(context.WithValue(ctx, attemptKey{}, i)) })
		}
		wg.Wait()
		next.Adopt(forks[winner])
		return errs[winner]
	})
}

func attemptName(ctx context.Context) (string, error) {
	i := ctx.Value(attemptKey{}).(int)
	if i == 1 {
		return "", errBank
	}
	return "attempt " + strconv.Itoa(i), nil
}

func TestForkAndAdoptHandBackTheChosenAttempt(t *testing.T) {
	tests := []struct {
		name    string
		execute func(fn resilience.Func[string], h resilience.Guard) (string, error)
	}{
		{"flat", func(fn resilience.Func[string], h resilience.Guard) (string, error) {
			return resilience.Execute(context.Background(), fn, pass, h, pass)
		}},
		{"in a nested pipeline", func(fn resilience.Func[string], h resilience.Guard) (string, error) {
			return resilience.Execute(context.Background(), fn, pass, resilience.NewPipeline[string](pass, h), pass)
		}},
		{"in a nested chain", func(fn resilience.Func[string], h resilience.Guard) (string, error) {
			return resilience.Execute(context.Background(), fn, resilience.NewChain(h, pass), pass)
		}},
		{"in a chain in a pipeline in a pipeline", func(fn resilience.Func[string], h resilience.Guard) (string, error) {
			inner := resilience.NewPipeline[string](resilience.NewChain(pass, h))
			return resilience.Execute(context.Background(), fn, resilience.NewPipeline[string](inner), pass)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.execute(attemptName, hedge(0))
			assert.NoError(t, err)
			assert.Equal(t, "attempt 0", v)
			v, err = tt.execute(attemptName, hedge(1))
			assert.Equal(t, errBank, err)
			assert.Zero(t, v)
		})
	}
}

func TestForkWithoutAdoptLeavesTheResultAlone(t *testing.T) {
	g := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		return next.Fork().Run(ctx) // the fork's value is never adopted
	})
	v, err := resilience.Execute(context.Background(), func(context.Context) (int, error) { return 7, nil }, g)
	assert.NoError(t, err)
	assert.Zero(t, v)
}

func TestZeroNext(t *testing.T) {
	var n resilience.Next
	assert.ErrorIs(t, n.Run(context.Background()), resilience.ErrNilFunc)
	assert.ErrorIs(t, n.Fork().Run(context.Background()), resilience.ErrNilFunc)
	n.Adopt(n) // no panic
	_, ok := resilience.Result[int](n)
	assert.False(t, ok)
	assert.ErrorContains(t, resilience.SetResult(n, 1), "no pipeline")
}

// answer is a fallback guard: on failure it sets v as the result.
func answer[T any](v T, setErr *error) resilience.Guard {
	return resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		if err := next.Run(ctx); err == nil {
			return nil
		}
		if *setErr = resilience.SetResult(next, v); *setErr != nil {
			return *setErr
		}
		return nil
	})
}

func fail[T any](context.Context) (T, error) {
	var zero T
	return zero, errBank
}

func TestSetResultAnswersForTheCall(t *testing.T) {
	var setErr error
	v, err := resilience.Execute(context.Background(), fail[string], answer("cached", &setErr))
	require.NoError(t, setErr)
	assert.NoError(t, err)
	assert.Equal(t, "cached", v)

	// A chain nested in a pipeline is transparent: a fallback inside it
	// answers for the pipeline.
	v, err = resilience.Execute(context.Background(), fail[string], resilience.NewChain(answer("cached", &setErr)))
	require.NoError(t, setErr)
	assert.NoError(t, err)
	assert.Equal(t, "cached", v)
}

func TestResultAndSetResultRefuseAnotherType(t *testing.T) {
	var setErr error
	_, err := resilience.Execute(context.Background(), fail[int], answer("cached", &setErr))
	require.Error(t, setErr)
	assert.Equal(t, setErr, err, "the guard's error ends the call")
	assert.EqualError(t, setErr, "resilience: SetResult of string in Pipeline[int]")

	err = resilience.Run(context.Background(), func(context.Context) error { return errBank }, answer("cached", &setErr))
	assert.EqualError(t, err, "resilience: SetResult of string in a Chain")

	var sawOK, sawOtherType bool
	peek := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		err := next.Run(ctx)
		v, ok := resilience.Result[int](next)
		sawOK = ok && v == 4
		_, sawOtherType = resilience.Result[string](next)
		return err
	})
	_, _ = resilience.Execute(context.Background(), func(context.Context) (int, error) { return 4, nil }, peek)
	assert.True(t, sawOK, "Result reads the value of the latest run")
	assert.False(t, sawOtherType)
}

// firstGood is a Policy in the Wrap form that calls next twice at once, as
// a hedge written against Func would, and keeps the first good value.
func firstGood() resilience.Policy[string] {
	return resilience.PolicyFunc[string](func(next resilience.Func[string]) resilience.Func[string] {
		return func(ctx context.Context) (string, error) {
			vs, errs := make([]string, 2), make([]error, 2)
			var wg sync.WaitGroup
			for i := range 2 {
				wg.Go(func() { vs[i], errs[i] = next(context.WithValue(ctx, attemptKey{}, i)) })
			}
			wg.Wait()
			for i := range 2 {
				if errs[i] == nil {
					return vs[i], nil
				}
			}
			return "", errs[0]
		}
	})
}

func TestAdaptRunsAPolicyOfTheSameType(t *testing.T) {
	// The race detector proves that parallel calls of next do not share a
	// result slot.
	v, err := resilience.Execute(context.Background(), attemptName, pass, resilience.Adapt(firstGood()), pass)
	assert.NoError(t, err)
	assert.Equal(t, "attempt 0", v)

	// A fallback written as a Policy answers for the call.
	orCached := resilience.PolicyFunc[string](func(next resilience.Func[string]) resilience.Func[string] {
		return func(ctx context.Context) (string, error) {
			if v, err := next(ctx); err == nil {
				return v, nil
			}
			return "cached", nil
		}
	})
	v, err = resilience.Execute(context.Background(), fail[string], resilience.Adapt[string](orCached))
	assert.NoError(t, err)
	assert.Equal(t, "cached", v)
}

func TestAdaptRefusesAnotherTypeAndNil(t *testing.T) {
	_, err := resilience.Execute(context.Background(), fail[int], resilience.Adapt(firstGood()))
	assert.EqualError(t, err, "resilience: Policy[string] adapted into Pipeline[int]")

	assert.Nil(t, resilience.Adapt[int](nil))
	_, err = resilience.Execute(context.Background(), fail[int], pass, resilience.Adapt[int](nil))
	assert.ErrorIs(t, err, resilience.ErrNilPolicy)
	assert.ErrorContains(t, err, "guard 2 of 2")
}
