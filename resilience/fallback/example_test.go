package fallback_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/fallback"
)

// A static answer for a failed call: no type argument, no error to check.
func ExampleValue() {
	quotes := resilience.NewPipeline[string](fallback.Value("EUR/USD 1.08 (default)"))
	v, err := quotes.Execute(context.Background(), func(context.Context) (string, error) {
		return "", errors.New("fx: 503")
	})
	fmt.Println(v, err)
	// Output: EUR/USD 1.08 (default) <nil>
}

func ExampleFunc() {
	p := fallback.Func(func(_ context.Context, err error) (string, error) {
		return "unavailable: " + err.Error(), nil
	})
	v, _ := resilience.Execute(context.Background(), func(context.Context) (string, error) {
		return "", errors.New("fx: 503")
	}, p)
	fmt.Println(v)
	// Output: unavailable: fx: 503
}

// The guide's multi-level fallback: primary gateway, then a secondary, then
// the last good answer if it is recent enough.
func ExampleChain() {
	mock := clock.NewMock()
	last, _ := fallback.NewLastGood[string](5*time.Minute, mock)
	last.Observe("quote from 2 minutes ago")
	mock.Add(2 * time.Minute)

	secondary := func(context.Context, error) (string, error) { return "", errors.New("secondary: down") }
	p := fallback.New(fallback.Chain(secondary, last.Alternative), fallback.Config[string]{Observe: last.Observe})
	quotes := resilience.NewPipeline[string](p)

	ctx, report := fallback.WithReport(context.Background())
	v, _ := quotes.Execute(ctx, func(context.Context) (string, error) { return "", errors.New("primary: down") })
	fmt.Println(v)
	fmt.Println("level:", report.Level(), "age:", report.Age())
	// Output:
	// quote from 2 minutes ago
	// level: 1 age: 2m0s
}

func ExampleLastGood() {
	mock := clock.NewMock()
	last, _ := fallback.NewLastGood[int](time.Minute, mock)
	rates := resilience.NewPipeline[int](last.Policy())
	up := true
	rate := func(context.Context) (int, error) {
		if up {
			return 108, nil
		}
		return 0, errors.New("fx: down")
	}
	fmt.Println(rates.Execute(context.Background(), rate)) // fills the cache
	up = false
	mock.Add(30 * time.Second)
	fmt.Println(rates.Execute(context.Background(), rate)) // answers from it
	mock.Add(time.Minute)
	_, err := rates.Execute(context.Background(), rate)
	fmt.Println(errors.Is(err, fallback.ErrStale))
	// Output:
	// 108 <nil>
	// 108 <nil>
	// true
}

func ExampleWithReport() {
	p := fallback.Value(0)
	ctx, report := fallback.WithReport(context.Background())
	v, _ := p.Wrap(func(context.Context) (int, error) { return 7, nil })(ctx)
	fmt.Println(v, report.Used())
	// Output: 7 false
}

// The caller's own cancellation is not a failure of the dependency, so the
// fallback does not hide it.
func ExampleConfig() {
	p := fallback.New(fallback.Static("cached"), fallback.Config[string]{
		Name:     "fx",
		Classify: resilience.Classify[string](),
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Wrap(func(ctx context.Context) (string, error) { return "", ctx.Err() })(ctx)
	fmt.Println(err)
	// Output: context canceled
}
