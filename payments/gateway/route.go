package gateway

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/health"
)

// acquirer is one bank of the gateway at run time: its pipelines, its
// place in the routing and what it has done since the gateway started.
type acquirer struct {
	name   string
	index  int // in Config order
	weight int
	path   *bankPath
	counts acquirerCounters
}

// acquirerCounters are an acquirer's counts, kept with atomics because
// every payment touches them and no two need to agree.
type acquirerCounters struct {
	routed, sent, refused, tookOver atomic.Int64
	succeeded, declined, pending    atomic.Int64
	reconciled                      atomic.Int64
}

// router orders the acquirers for each payment; the rule is in the package
// doc (Routing and failover). It is safe for concurrent use.
type router struct {
	acqs    []*acquirer
	groups  [][]int         // indexes into acqs: an acquirer alone, or a run of weighted ones
	checker *health.Checker // nil when nothing is probed; set before the first payment

	mu     sync.Mutex // protects credit
	credit []int      // smooth weighted round-robin credit, by index
}

func newRouter(acqs []*acquirer) *router {
	rt := &router{acqs: acqs, credit: make([]int, len(acqs))}
	for i, a := range acqs {
		n := len(rt.groups)
		if a.weight > 0 && i > 0 && acqs[i-1].weight > 0 {
			rt.groups[n-1] = append(rt.groups[n-1], i)
			continue
		}
		rt.groups = append(rt.groups, []int{i})
	}
	return rt
}

// byName returns the acquirer called name, or nil. A store record written
// before banks had names ("") belongs to a single-bank gateway's bank.
func (rt *router) byName(name string) *acquirer {
	for _, a := range rt.acqs {
		if a.name == name {
			return a
		}
	}
	if name == "" && len(rt.acqs) == 1 {
		return rt.acqs[0]
	}
	return nil
}

// order returns the acquirers in the order one payment tries them: each
// group at its place, its first member chosen by weight among the
// available ones; then every unavailable acquirer moved after every
// available one, each side keeping that order.
func (rt *router) order() []*acquirer {
	if len(rt.acqs) == 1 {
		return rt.acqs
	}
	up := make([]bool, len(rt.acqs))
	for i, a := range rt.acqs {
		up[i] = rt.available(a)
	}
	out := make([]*acquirer, 0, len(rt.acqs))
	for _, g := range rt.groups {
		first := rt.pick(g, up)
		if first >= 0 {
			out = append(out, rt.acqs[first])
		}
		for _, i := range g {
			if i != first {
				out = append(out, rt.acqs[i])
			}
		}
	}
	slices.SortStableFunc(out, func(a, b *acquirer) int { return rank(up[a.index]) - rank(up[b.index]) })
	return out
}

func rank(up bool) int {
	if up {
		return 0
	}
	return 1
}

// pick chooses the group member that goes first, by smooth weighted
// round-robin among the available members: each gains its weight in
// credit, the richest is chosen and pays the total. Over any run of
// payments during which the same members stay available, each is chosen
// in proportion to its weight, evenly spread, with no randomness. It
// returns -1 when no member is available; a group of one needs no choice.
func (rt *router) pick(g []int, up []bool) int {
	if len(g) == 1 {
		return g[0]
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	best, total := -1, 0
	for _, i := range g {
		if !up[i] {
			continue
		}
		rt.credit[i] += rt.acqs[i].weight
		total += rt.acqs[i].weight
		if best < 0 || rt.credit[i] > rt.credit[best] {
			best = i
		}
	}
	if best >= 0 {
		rt.credit[best] -= total
	}
	return best
}

// available reports whether routing prefers a: its transfer breaker is not
// refusing every call (open, forced or held open) and its health check, if
// any, does not say it is down. A half-open breaker counts as available,
// so that its probes come from real traffic and the bank can recover.
func (rt *router) available(a *acquirer) bool {
	switch a.path.breaker.State() {
	case breaker.Open, breaker.ForcedOpen, breaker.HeldOpen:
		return false
	}
	return rt.checker == nil || rt.checker.Status(a.name) != health.Unhealthy
}
