package fallback_test

import (
	"context"
	"sync"
	"testing"

	"github.com/riprap-go/riprap/resilience/fallback"
	"github.com/stretchr/testify/assert"
)

func TestNilReportReadsAsNotUsed(t *testing.T) {
	var r *fallback.Report
	assert.False(t, r.Used())
	assert.NoError(t, r.Cause())
	assert.Zero(t, r.Level())
	assert.Zero(t, r.Age())
}

// Each call gets its own report; concurrent calls with their own reports
// do not see each other's fallbacks.
func TestReportsArePerCall(t *testing.T) {
	p := fallback.Value("cached")
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			ctx, rep := fallback.WithReport(context.Background())
			fn := succeeds
			if i%2 == 0 {
				fn = fails
			}
			_, _ = p.Wrap(fn)(ctx)
			assert.Equal(t, i%2 == 0, rep.Used())
		})
	}
	wg.Wait()
}
