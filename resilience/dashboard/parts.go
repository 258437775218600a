package dashboard

import (
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// Parts are snapshots of components the dashboard cannot read itself:
// those built inside another package that shows only their snapshots (a
// payments gateway's limiters and health checks, in its Status). A
// [Config.Parts] func returns them at each sample, and the dashboard shows
// them beside the components it reads directly; health targets get a
// timeline, drawn from the samples. It is plain data.
type Parts struct {
	Limiters  []ratelimit.Snapshot
	Bulkheads []bulkhead.Snapshot
	Health    []health.TargetSnapshot
	Budgets   []BudgetStatus
}

// partsOwner is the component behind every timeline of a health target
// known from Parts: the dashboard holds no checker for it. See
// timeline.of.
var partsOwner = new(byte)

// addParts appends what each source's Parts func returns to s. It runs
// without the dashboard's lock, since Parts is the caller's code.
func addParts(s *Snapshot, src []Config) {
	for _, c := range src {
		if c.Parts == nil {
			continue
		}
		p := c.Parts()
		s.Limiters = append(s.Limiters, p.Limiters...)
		s.Bulkheads = append(s.Bulkheads, p.Bulkheads...)
		s.Budgets = append(s.Budgets, p.Budgets...)
		for _, t := range p.Health {
			s.Health = append(s.Health, TargetStatus{Snapshot: t, of: partsOwner})
		}
	}
}

// fromParts reports whether k is a health target the last samples found
// in Parts, so that a listener's report of its change is recorded too.
func (d *Dashboard) fromParts(k key) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	tl := d.timelines[k]
	return tl != nil && tl.of == any(partsOwner)
}
