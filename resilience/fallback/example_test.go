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

func ExampleNew() {
	p, _ := fallback.New(fallback.Static("EUR/USD 1.08 (default)"), fallback.Config[string]{})
	quote := p.Wrap(func(context.Context) (string, error) { return "", errors.New("fx: 503") })

	ctx, report := fallback.WithReport(context.Background())
	v, err := quote(ctx)
	fmt.Println(v, err)
	fmt.Println("fallback used:", report.Used(), "because:", report.Cause())
	// Output:
	// EUR/USD 1.08 (default) <nil>
	// fallback used: true because: fx: 503
}

// The guide's multi-level fallback: primary gateway, then a secondary, then
// the last good answer if it is recent enough.
func ExampleChain() {
	mock := clock.NewMock()
	last, _ := fallback.NewLastGood[string](5*time.Minute, mock)
	last.Observe("quote from 2 minutes ago")
	mock.Add(2 * time.Minute)

	secondary := func(context.Context, error) (string, error) { return "", errors.New("secondary: down") }
	p, _ := fallback.New(fallback.Chain(secondary, last.Alternative), fallback.Config[string]{Observe: last.Observe})
	quote := p.Wrap(func(context.Context) (string, error) { return "", errors.New("primary: down") })

	ctx, report := fallback.WithReport(context.Background())
	v, _ := quote(ctx)
	fmt.Println(v)
	fmt.Println("level:", report.Level(), "age:", report.Age())
	// Output:
	// quote from 2 minutes ago
	// level: 1 age: 2m0s
}

func ExampleLastGood() {
	mock := clock.NewMock()
	last, _ := fallback.NewLastGood[int](time.Minute, mock)
	_, err := last.Alternative(context.Background(), nil)
	fmt.Println(err)
	last.Observe(42)
	mock.Add(2 * time.Minute)
	_, err = last.Alternative(context.Background(), nil)
	fmt.Println(err)
	v, at, ok := last.Get()
	fmt.Println(v, at.Unix(), ok)
	// Output:
	// fallback: no good value seen yet
	// fallback: last good value too old: 2m0s old, limit 1m0s
	// 42 0 true
}

func ExampleWithReport() {
	p, _ := fallback.New(fallback.Static(0), fallback.Config[int]{})
	ctx, report := fallback.WithReport(context.Background())
	v, _ := p.Wrap(func(context.Context) (int, error) { return 7, nil })(ctx)
	fmt.Println(v, report.Used())
	// Output: 7 false
}

// The caller's own cancellation is not a failure of the dependency, so the
// fallback does not hide it.
func ExampleConfig() {
	p, _ := fallback.New(fallback.Static("cached"), fallback.Config[string]{
		Classify: resilience.Classify[string](),
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Wrap(func(ctx context.Context) (string, error) { return "", ctx.Err() })(ctx)
	fmt.Println(err)
	// Output: context canceled
}
