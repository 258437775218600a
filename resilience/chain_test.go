package resilience_test

import (
	"context"
	"testing"

	"github.com/riprap-go/riprap/resilience"
	"github.com/stretchr/testify/assert"
)

func TestChainRunsGuardsFirstOutermost(t *testing.T) {
	var log []string
	c := resilience.NewChain(tracer("a", &log), tracer("b", &log))
	err := c.Run(context.Background(), func(context.Context) error {
		log = append(log, "fn")
		return errBank
	})
	assert.Equal(t, errBank, err)
	assert.Equal(t, []string{"+a", "+b", "fn", "-b", "-a"}, log)
	assert.Equal(t, 2, c.Len())
}

func TestChainGuardsCanRefuseAndRepeat(t *testing.T) {
	calls := 0
	fn := func(context.Context) error { calls++; return errBank }
	refuse := resilience.GuardFunc(func(context.Context, resilience.Next) error {
		return resilience.Reject("test", "", errBank, 0)
	})
	twice := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		_ = next.Run(ctx)
		return next.Run(ctx)
	})
	err := resilience.Run(context.Background(), fn, twice, refuse)
	assert.True(t, resilience.IsRejected(err))
	assert.Zero(t, calls)
	assert.Equal(t, errBank, resilience.Run(context.Background(), fn, twice))
	assert.Equal(t, 2, calls)
}

func TestZeroChainRunsStraightThrough(t *testing.T) {
	var c resilience.Chain
	assert.Zero(t, c.Len())
	assert.Equal(t, errBank, c.Run(context.Background(), func(context.Context) error { return errBank }))
	assert.NoError(t, resilience.Run(context.Background(), func(context.Context) error { return nil }))
}

// A chain nested in a pipeline carries the pipeline's value through.
func TestChainNestedInAPipelineKeepsTheValue(t *testing.T) {
	var log []string
	p := resilience.NewPipeline[string](tracer("p", &log), resilience.NewChain(tracer("c", &log)))
	v, err := p.Execute(context.Background(), func(context.Context) (string, error) { return "receipt", nil })
	assert.NoError(t, err)
	assert.Equal(t, "receipt", v)
	assert.Equal(t, []string{"+p", "+c", "-c", "-p"}, log)
}
