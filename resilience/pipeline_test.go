package resilience_test

import (
	"context"
	"errors"
	"testing"

	"github.com/riprap-go/riprap/resilience"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func passThrough[T any]() resilience.Policy[T] {
	return resilience.PolicyFunc[T](func(next resilience.Func[T]) resilience.Func[T] { return next })
}

// recorder appends "+id" on the way in and "-id" on the way out.
func recorder(id int, log *[]int) resilience.Policy[int] {
	return resilience.PolicyFunc[int](func(next resilience.Func[int]) resilience.Func[int] {
		return func(ctx context.Context) (int, error) {
			*log = append(*log, id)
			defer func() { *log = append(*log, -id) }()
			return next(ctx)
		}
	})
}

func TestPipelinePassThroughReturnsExactlyWhatFuncReturned(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 20).Draw(t, "policies")
		v := rapid.Int().Draw(t, "value")
		var want error
		if rapid.Bool().Draw(t, "fails") {
			want = errors.New(rapid.String().Draw(t, "msg"))
		}
		ps := make([]resilience.Policy[int], n)
		for i := range ps {
			ps[i] = passThrough[int]()
		}
		p, err := resilience.NewPipeline(ps...)
		require.NoError(t, err)
		got, gotErr := p.Wrap(func(context.Context) (int, error) { return v, want })(context.Background())
		assert.Equal(t, v, got)
		assert.True(t, gotErr == want, "got error %v, want exactly %v", gotErr, want)
	})
}

func TestPipelineRecordingPoliciesAreProperlyNested(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 12).Draw(t, "policies")
		var log []int
		ps := make([]resilience.Policy[int], n)
		for i := range ps {
			ps[i] = recorder(i+1, &log)
		}
		// Nesting pipelines must not change the order either.
		split := rapid.IntRange(0, n).Draw(t, "split")
		inner := resilience.Must(resilience.NewPipeline(ps[split:]...))
		outer := resilience.Must(resilience.NewPipeline(append(ps[:split:split], inner)...))
		_, err := outer.Wrap(func(context.Context) (int, error) {
			log = append(log, 0)
			return 0, nil
		})(context.Background())
		require.NoError(t, err)

		want := make([]int, 0, 2*n+1)
		for i := 1; i <= n; i++ {
			want = append(want, i)
		}
		want = append(want, 0)
		for i := n; i >= 1; i-- {
			want = append(want, -i)
		}
		assert.Equal(t, want, log)
	})
}

func TestPipelineCopiesItsPolicies(t *testing.T) {
	var log []int
	ps := []resilience.Policy[int]{recorder(1, &log)}
	p := resilience.Must(resilience.NewPipeline(ps...))
	ps[0] = recorder(2, &log) // must not affect p
	_, _ = p.Execute(context.Background(), func(context.Context) (int, error) { return 0, nil })
	assert.Equal(t, []int{1, -1}, log)
}

func TestZeroPipelinePassesThrough(t *testing.T) {
	var p resilience.Pipeline[string]
	v, err := p.Execute(context.Background(), func(context.Context) (string, error) { return "x", nil })
	assert.Equal(t, "x", v)
	assert.NoError(t, err)
	assert.Equal(t, 0, p.Len())
}

func TestNilFuncFailsEveryCallWithoutPanicking(t *testing.T) {
	p := resilience.Must(resilience.NewPipeline(passThrough[int]()))
	call := p.Wrap(nil)
	for range 2 {
		v, err := call(context.Background())
		assert.Zero(t, v)
		assert.ErrorIs(t, err, resilience.ErrNilFunc)
	}
	_, err := resilience.Execute[int](context.Background(), func(context.Context) (int, error) { return 1, nil }, nil)
	assert.ErrorIs(t, err, resilience.ErrNilPolicy)
}

func TestPanicPassesThroughPipelineUnchanged(t *testing.T) {
	p := resilience.Must(resilience.NewPipeline(passThrough[int](), passThrough[int]()))
	call := p.Wrap(func(context.Context) (int, error) { panic("boom") })
	assert.PanicsWithValue(t, "boom", func() { _, _ = call(context.Background()) })
}

func BenchmarkPipelineWrappedOnce(b *testing.B) {
	p := resilience.Must(resilience.NewPipeline(passThrough[int](), passThrough[int](), passThrough[int]()))
	call := p.Wrap(func(context.Context) (int, error) { return 1, nil })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = call(ctx)
	}
}

// wrapping is a pass-through policy that, like most real ones, returns a new
// closure from Wrap.
func wrapping() resilience.Policy[int] {
	return resilience.PolicyFunc[int](func(next resilience.Func[int]) resilience.Func[int] {
		return func(ctx context.Context) (int, error) { return next(ctx) }
	})
}

func BenchmarkPipelineClosuresWrappedOnce(b *testing.B) {
	p := resilience.Must(resilience.NewPipeline(wrapping(), wrapping(), wrapping()))
	call := p.Wrap(func(context.Context) (int, error) { return 1, nil })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = call(ctx)
	}
}

func BenchmarkPipelineComposedPerCall(b *testing.B) {
	p := resilience.Must(resilience.NewPipeline(wrapping(), wrapping(), wrapping()))
	fn := func(context.Context) (int, error) { return 1, nil }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = p.Execute(ctx, fn)
	}
}
