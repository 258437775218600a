package dashboard_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/dashboard"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// Components known only by their snapshots (Parts) are shown beside the
// others; a health target among them gets a timeline, and the dashboard's
// listener records its changes with their reasons once a sample has
// listed it.
func TestPartsAreShownWithTimelines(t *testing.T) {
	clk := mockClock()
	d, err := dashboard.New(dashboard.Config{Clock: clk})
	require.NoError(t, err)
	defer d.Close()
	lim, err := ratelimit.NewWithConfig(ratelimit.Config{Name: "bank", Rate: ratelimit.PerSecond(10), Burst: 5, Clock: clk})
	require.NoError(t, err)
	var probeErr error
	chk, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1, Clock: clk,
		Listeners: resilience.Listeners{d.Listener()}},
		health.Target{Name: "bank", Probe: func(context.Context) error { return probeErr }})
	require.NoError(t, err)
	// The checker and the limiter stay hidden, as inside a gateway: only
	// their snapshots reach the dashboard.
	d.Add(dashboard.Config{Parts: func() dashboard.Parts {
		return dashboard.Parts{Limiters: []ratelimit.Snapshot{lim.Snapshot()}, Health: chk.Snapshot(),
			Budgets: []dashboard.BudgetStatus{{Name: "shared"}}}
	}})

	_, err = chk.Probe(context.Background(), "bank")
	require.NoError(t, err)
	s := d.Snapshot()
	require.Len(t, s.Limiters, 1)
	assert.Equal(t, "bank", s.Limiters[0].Name)
	require.Len(t, s.Budgets, 1)
	assert.Equal(t, "shared", s.Budgets[0].Name)
	require.Len(t, s.Health, 1)
	assert.Equal(t, []string{"healthy"}, states(s.Health[0].Timeline))

	clk.Add(time.Second)
	probeErr = errors.New("connection refused")
	_, err = chk.Probe(context.Background(), "bank")
	require.NoError(t, err)
	s = d.Snapshot()
	require.Len(t, s.Health, 1)
	tl := s.Health[0].Timeline
	require.Equal(t, []string{"healthy", "unhealthy"}, states(tl))
	assert.NotEmpty(t, tl[1].Reason, "the listener's report, not only the sample, was recorded")
}
