package riprapprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// Snapshots are snapshots of components a [Collector] cannot hold: those
// built inside another package that exposes only their snapshots (a
// payments gateway's rate limiters and health checks, in its Status). A
// func given to [Collector.AddSnapshots] returns them at each scrape, and
// they are exported under the same names as the components themselves.
// It is plain data.
type Snapshots struct {
	Limiters  []ratelimit.Snapshot
	Bulkheads []bulkhead.Snapshot
	Health    []health.TargetSnapshot
}

// AddSnapshots adds a source of snapshots, called at each scrape outside
// the collector's lock; it must be safe for concurrent use and should
// return quickly, since a scrape waits for it. A nil f is skipped.
func (c *Collector) AddSnapshots(f func() Snapshots) *Collector {
	return c.add(func(s *sources) {
		if f != nil {
			s.snapshots = append(s.snapshots, f)
		}
	})
}

// collectSnapshots sends the samples of every snapshot source.
func (s sources) collectSnapshots(ch chan<- prometheus.Metric) {
	for _, f := range s.snapshots {
		got := f()
		for _, l := range got.Limiters {
			collectLimiter(ch, l)
		}
		for _, b := range got.Bulkheads {
			collectBulkhead(ch, b)
		}
		for _, t := range got.Health {
			collectTarget(ch, t)
		}
	}
}
