package riprapprom_test

import (
	"testing"

	riprapprom "github.com/riprap-go/riprap/contrib/prometheus"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// Components known only by their snapshots are exported under the names
// of the components themselves, read afresh at every scrape.
func TestSnapshotsSource(t *testing.T) {
	status := health.Healthy
	c := riprapprom.NewCollector().AddSnapshots(nil).AddSnapshots(func() riprapprom.Snapshots {
		return riprapprom.Snapshots{
			Limiters: []ratelimit.Snapshot{{Name: "bank", Tokens: 7, Rejected: 3}},
			Health:   []health.TargetSnapshot{{Name: "bank", Status: status}},
		}
	})
	want := func(up string) string {
		return `
# HELP riprap_ratelimiter_available_permissions Permits the rate limiter would grant now; negative while reservations borrow ahead.
# TYPE riprap_ratelimiter_available_permissions gauge
riprap_ratelimiter_available_permissions{name="bank"} 7
# HELP riprap_ratelimiter_rejected_calls_total Calls the rate limiter refused (Guard and Wait).
# TYPE riprap_ratelimiter_rejected_calls_total counter
riprap_ratelimiter_rejected_calls_total{name="bank"} 3
# HELP riprap_health_status Health of a checked target: 1 healthy, 0 unhealthy or not yet known.
# TYPE riprap_health_status gauge
riprap_health_status{target="bank"} ` + up + `
`
	}
	names := []string{"riprap_ratelimiter_available_permissions", "riprap_ratelimiter_rejected_calls_total", "riprap_health_status"}
	compare(t, c, want("1"), names...)
	status = health.Unhealthy
	compare(t, c, want("0"), names...)
}
