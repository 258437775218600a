//go:build !race

package hedge_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/hedge"
)

// A call answered before the delay allocates only its first attempt's
// context (one object, until something waits on it), in a typed pipeline
// as in an error-only chain: the rest of the pipeline is forked only for a
// hedge. (The race detector adds allocations of its own, hence the build
// tag.)
func TestFastPathAllocatesOnlyTheContext(t *testing.T) {
	h, err := hedge.New(hedge.Config{Delay: time.Hour})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background()) // a caller's context that can end
	defer cancel()
	var typed, chain float64
	_, err = resilience.NewPipeline[string](resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		typed = testing.AllocsPerRun(100, func() { _ = h.Guard(ctx, next) })
		return nil
	})).Execute(ctx, func(context.Context) (string, error) { return "ok", nil })
	require.NoError(t, err)
	err = resilience.Run(ctx, func(context.Context) error { return nil },
		resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
			chain = testing.AllocsPerRun(100, func() { _ = h.Guard(ctx, next) })
			return nil
		}))
	require.NoError(t, err)
	assert.Equal(t, 1.0, typed, "allocations per call in a Pipeline[string]")
	assert.Equal(t, 1.0, chain, "allocations per call in a Chain")
}
