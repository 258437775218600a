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
	"pgregory.net/rapid"
)

func TestPipelinePassThroughReturnsExactlyWhatFuncReturned(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 20).Draw(t, "guards")
		v := rapid.Int().Draw(t, "value")
		var want error
		if rapid.Bool().Draw(t, "fails") {
			want = errors.New(rapid.String().Draw(t, "msg"))
		}
		gs := make([]resilience.Guard, n)
		for i := range gs {
			gs[i] = pass
		}
		got, gotErr := resilience.NewPipeline[int](gs...).Execute(context.Background(),
			func(context.Context) (int, error) { return v, want })
		if want == nil {
			assert.Equal(t, v, got)
		}
		assert.True(t, gotErr == want, "got error %v, want exactly %v", gotErr, want)
	})
}

// However guards are split into nested pipelines and chains, the first one
// is outermost and each wraps the next.
func TestPipelineGuardsNestFirstOutermost(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 12).Draw(t, "guards")
		var log []string
		gs := make([]resilience.Guard, n)
		for i := range gs {
			gs[i] = tracer(strconv.Itoa(i+1), &log)
		}
		a := rapid.IntRange(0, n).Draw(t, "pipeline from")
		b := rapid.IntRange(a, n).Draw(t, "chain from")
		chain := resilience.NewChain(gs[b:]...)
		inner := resilience.NewPipeline[int](append(gs[a:b:b], chain)...)
		outer := resilience.NewPipeline[int](append(gs[:a:a], inner)...)
		v, err := outer.Execute(context.Background(), func(context.Context) (int, error) {
			log = append(log, "fn")
			return 42, nil
		})
		require.NoError(t, err)
		assert.Equal(t, 42, v, "the value crosses the nested chain and pipeline")

		var want []string
		for i := 1; i <= n; i++ {
			want = append(want, "+"+strconv.Itoa(i))
		}
		want = append(want, "fn")
		for i := n; i >= 1; i-- {
			want = append(want, "-"+strconv.Itoa(i))
		}
		assert.Equal(t, want, log)
	})
}

func TestPipelineCopiesItsGuards(t *testing.T) {
	var log []string
	gs := []resilience.Guard{tracer("1", &log)}
	p := resilience.NewPipeline[int](gs...)
	gs[0] = tracer("2", &log) // must not affect p
	_, _ = p.Execute(context.Background(), func(context.Context) (int, error) { return 0, nil })
	assert.Equal(t, []string{"+1", "-1"}, log)
	assert.Equal(t, 1, p.Len())
}

func TestZeroPipelinePassesThrough(t *testing.T) {
	var p resilience.Pipeline[string]
	v, err := p.Execute(context.Background(), func(context.Context) (string, error) { return "x", nil })
	assert.Equal(t, "x", v)
	assert.NoError(t, err)
	assert.Zero(t, p.Len())
	v, err = resilience.Execute(context.Background(), fail[string], p) // nested, too
	assert.Zero(t, v)
	assert.Equal(t, errBank, err)
}

func TestNilFuncFailsEveryCallWithoutPanicking(t *testing.T) {
	p := resilience.NewPipeline[int](pass)
	var zero resilience.Pipeline[int]
	calls := map[string]resilience.Func[int]{
		"Wrap(nil)":       p.Wrap(nil),
		"Execute(nil)":    func(ctx context.Context) (int, error) { return p.Execute(ctx, nil) },
		"zero Execute":    func(ctx context.Context) (int, error) { return zero.Execute(ctx, nil) },
		"one-shot":        func(ctx context.Context) (int, error) { return resilience.Execute[int](ctx, nil, pass) },
		"Chain.Run(nil)":  func(ctx context.Context) (int, error) { return 0, resilience.NewChain(pass).Run(ctx, nil) },
		"Run(nil)":        func(ctx context.Context) (int, error) { return 0, resilience.Run(ctx, nil) },
		"zero Chain.Run ": func(ctx context.Context) (int, error) { return 0, resilience.Chain{}.Run(ctx, nil) },
	}
	for name, call := range calls {
		for range 2 {
			v, err := call(context.Background())
			assert.Zero(t, v, name)
			assert.ErrorIs(t, err, resilience.ErrNilFunc, name)
		}
	}
}

func TestNilGuardFailsEveryCallNamingItsPosition(t *testing.T) {
	ok := func(context.Context) (int, error) { return 1, nil }
	ran := false
	spy := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error { ran = true; return next.Run(ctx) })

	p := resilience.NewPipeline[int](spy, nil, pass, nil)
	for range 2 {
		v, err := p.Execute(context.Background(), ok)
		assert.Zero(t, v)
		assert.ErrorIs(t, err, resilience.ErrNilPolicy)
		assert.EqualError(t, err, "resilience: nil policy: guard 2 of 4", "the first nil guard is named")
	}
	_, err := p.WithClassifier(resilience.Classify[int]()).Execute(context.Background(), ok)
	assert.ErrorIs(t, err, resilience.ErrNilPolicy, "a classifier does not mend the pipeline")
	_, err = resilience.Execute(context.Background(), ok, pass, p) // nested
	assert.ErrorIs(t, err, resilience.ErrNilPolicy)

	err = resilience.NewChain(nil, spy).Run(context.Background(), func(context.Context) error { return nil })
	assert.EqualError(t, err, "resilience: nil policy: guard 1 of 2")
	err = resilience.Run(context.Background(), func(context.Context) error { return nil }, spy, nil)
	assert.EqualError(t, err, "resilience: nil policy: guard 2 of 2")
	_, err = resilience.Execute(context.Background(), ok, resilience.NewChain(nil))
	assert.ErrorIs(t, err, resilience.ErrNilPolicy)
	assert.False(t, ran, "no guard runs in a broken pipeline")
}

func TestPanicPassesThroughUnchanged(t *testing.T) {
	var log []string
	boom := errors.New("boom")
	p := resilience.NewPipeline[int](tracer("a", &log), resilience.NewChain(tracer("b", &log)))
	assert.PanicsWithError(t, "boom", func() {
		_, _ = p.Execute(context.Background(), func(context.Context) (int, error) { panic(boom) })
	})
	assert.Equal(t, []string{"+a", "+b", "-b", "-a"}, log, "deferred work in guards still runs")

	assert.PanicsWithValue(t, "chain boom", func() {
		_ = resilience.Run(context.Background(), func(context.Context) error { panic("chain boom") }, pass, pass)
	})
}

func TestPipelineWrapMakesAReusableFunc(t *testing.T) {
	var log []string
	p := resilience.NewPipeline[string](tracer("a", &log))
	var _ resilience.Policy[string] = p // a pipeline is a Policy
	call := p.Wrap(func(context.Context) (string, error) { return "ok", nil })
	for range 2 {
		v, err := call(context.Background())
		assert.NoError(t, err)
		assert.Equal(t, "ok", v)
	}
	assert.Equal(t, []string{"+a", "-a", "+a", "-a"}, log)
}

// One pipeline serves concurrent callers, each with its own closure.
func TestPipelineIsSafeForConcurrentUse(t *testing.T) {
	p := resilience.NewPipeline[int](pass, resilience.NewChain(pass), resilience.NewPipeline[int](pass))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				want := g*1000 + i
				v, err := p.Execute(context.Background(), func(context.Context) (int, error) { return want, nil })
				assert.NoError(t, err)
				assert.Equal(t, want, v)
			}
		})
	}
	wg.Wait()
}

func TestPipelineOfAChainOnlyAndChainInChain(t *testing.T) {
	var log []string
	c := resilience.NewChain(tracer("a", &log), resilience.NewChain(tracer("b", &log)), resilience.Chain{})
	assert.Equal(t, 3, c.Len())
	err := c.Run(context.Background(), func(context.Context) error { log = append(log, "fn"); return errBank })
	assert.Equal(t, errBank, err)
	assert.Equal(t, []string{"+a", "+b", "fn", "-b", "-a"}, log)
}

func TestPipelineNestedInAChainIsRefused(t *testing.T) {
	err := resilience.Run(context.Background(), func(context.Context) error { return nil }, resilience.NewPipeline[int](pass))
	assert.EqualError(t, err, "resilience: Pipeline[int] nested in a Chain")
	_, err = resilience.Execute(context.Background(), fail[string], resilience.NewPipeline[int](pass))
	assert.EqualError(t, err, "resilience: Pipeline[int] nested in Pipeline[string]")
}
