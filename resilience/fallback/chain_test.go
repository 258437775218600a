package fallback_test

import (
	"context"
	"errors"
	"testing"

	"github.com/riprap-go/riprap/resilience/fallback"
	"github.com/stretchr/testify/assert"
)

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
	p := fallback.New(fallback.Chain(alt("secondary", false), nil, alt("cached", true), alt("never", true)), fallback.Config[string]{})
	ctx, rep := fallback.WithReport(context.Background())
	v, err := p.Wrap(fails)(ctx)
	assert.NoError(t, err)
	assert.Equal(t, "cached", v)
	assert.Equal(t, []string{"secondary", "cached"}, tried)
	assert.Equal(t, 1, rep.Level())
}

func TestChainGivesEachAlternativeTheCallsError(t *testing.T) {
	var seen []error
	alt := func(_ context.Context, err error) (int, error) { seen = append(seen, err); return 0, errors.New("no") }
	_, err := fallback.Chain(alt, alt)(context.Background(), errDown)
	assert.Error(t, err)
	assert.Equal(t, []error{errDown, errDown}, seen)
}
