package riprapprom

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/chaos"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/hedge"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/throttle"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// Collector is a [prometheus.Collector] that reads the Snapshot of every
// component added to it at each scrape, so a metric shows the component's
// state from the first scrape on, not from its first event. Add the
// components with the Add methods, then register the collector once:
//
//	c := riprapprom.NewCollector().AddBreakers(reg).AddLimiter(limiter)
//	prometheus.MustRegister(c)
//
// Components may be added after registration; the next scrape reads them.
// Nil components are skipped. A breaker reached both through a registry and
// directly is read once. Names label the series, so two components of one
// kind should not share a name: the registry would report the duplicate
// series as an error at gather time.
//
// The zero value is an empty collector ready to use. A Collector is safe
// for concurrent use; it must not be copied after first use.
type Collector struct {
	mu  sync.Mutex // protects src
	src sources
}

// sources are the components a collector reads, grouped by kind.
type sources struct {
	registries []*breaker.Registry
	breakers   []*breaker.Breaker
	limiters   []*ratelimit.Limiter
	keyed      []*ratelimit.Keyed
	bulkheads  []*bulkhead.Bulkhead
	adaptive   []*bulkhead.Adaptive
	retries    []*backoff.Retry
	budgets    []namedBudget
	timeouts   []*timeout.Timeout
	checkers   []*health.Checker
	throttles  []*throttle.Throttle
	hedgers    []*hedge.Hedger
	injectors  []*chaos.Injector
	snapshots  []func() Snapshots
}

// namedBudget is a retry budget with the name that labels its series: a
// budget is shared by many retries and has no name of its own.
type namedBudget struct {
	name string
	b    *backoff.Budget
}

// NewCollector returns an empty collector.
func NewCollector() *Collector { return &Collector{} }

// appendNonNil appends the non-nil items of add to list.
func appendNonNil[P comparable](list []P, add []P) []P {
	var zero P
	for _, p := range add {
		if p != zero {
			list = append(list, p)
		}
	}
	return list
}

// add runs f on the sources under the lock and returns c, so Add calls chain.
func (c *Collector) add(f func(s *sources)) *Collector {
	c.mu.Lock()
	f(&c.src)
	c.mu.Unlock()
	return c
}

// AddBreakers adds every breaker of reg, read at each scrape, so breakers
// created later are exported too.
func (c *Collector) AddBreakers(reg *breaker.Registry) *Collector {
	return c.add(func(s *sources) { s.registries = appendNonNil(s.registries, []*breaker.Registry{reg}) })
}

// AddBreaker adds circuit breakers.
func (c *Collector) AddBreaker(bs ...*breaker.Breaker) *Collector {
	return c.add(func(s *sources) { s.breakers = appendNonNil(s.breakers, bs) })
}

// AddLimiter adds rate limiters.
func (c *Collector) AddLimiter(ls ...*ratelimit.Limiter) *Collector {
	return c.add(func(s *sources) { s.limiters = appendNonNil(s.limiters, ls) })
}

// AddKeyed adds keyed rate limiters.
func (c *Collector) AddKeyed(ks ...*ratelimit.Keyed) *Collector {
	return c.add(func(s *sources) { s.keyed = appendNonNil(s.keyed, ks) })
}

// AddBulkhead adds bulkheads.
func (c *Collector) AddBulkhead(bs ...*bulkhead.Bulkhead) *Collector {
	return c.add(func(s *sources) { s.bulkheads = appendNonNil(s.bulkheads, bs) })
}

// AddAdaptive adds adaptive concurrency limits, exported as bulkheads whose
// limit moves.
func (c *Collector) AddAdaptive(as ...*bulkhead.Adaptive) *Collector {
	return c.add(func(s *sources) { s.adaptive = appendNonNil(s.adaptive, as) })
}

// AddRetry adds retry policies.
func (c *Collector) AddRetry(rs ...*backoff.Retry) *Collector {
	return c.add(func(s *sources) { s.retries = appendNonNil(s.retries, rs) })
}

// AddBudget adds a retry budget under name; a nil budget is skipped.
func (c *Collector) AddBudget(name string, b *backoff.Budget) *Collector {
	if b == nil {
		return c
	}
	return c.add(func(s *sources) { s.budgets = append(s.budgets, namedBudget{name, b}) })
}

// AddTimeout adds timeout policies.
func (c *Collector) AddTimeout(ts ...*timeout.Timeout) *Collector {
	return c.add(func(s *sources) { s.timeouts = appendNonNil(s.timeouts, ts) })
}

// AddChecker adds the targets of health checkers; target names label the
// series.
func (c *Collector) AddChecker(hs ...*health.Checker) *Collector {
	return c.add(func(s *sources) { s.checkers = appendNonNil(s.checkers, hs) })
}

// AddThrottle adds adaptive throttles.
func (c *Collector) AddThrottle(ts ...*throttle.Throttle) *Collector {
	return c.add(func(s *sources) { s.throttles = appendNonNil(s.throttles, ts) })
}

// AddHedger adds hedging policies.
func (c *Collector) AddHedger(hs ...*hedge.Hedger) *Collector {
	return c.add(func(s *sources) { s.hedgers = appendNonNil(s.hedgers, hs) })
}

// AddInjector adds fault injectors.
func (c *Collector) AddInjector(is ...*chaos.Injector) *Collector {
	return c.add(func(s *sources) { s.injectors = appendNonNil(s.injectors, is) })
}

// Describe sends the description of every metric family the collector can
// export, whether or not a component of its kind was added, so the set is
// fixed at registration.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families {
		ch <- f.desc
	}
}

// Collect reads every component's Snapshot and sends its samples. The
// snapshots are read outside the collector's lock: a slow component never
// blocks an Add.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	s := c.src // the slices are only appended to, so this copy is stable
	c.mu.Unlock()
	for _, b := range s.allBreakers() {
		collectBreaker(ch, b.Snapshot())
	}
	for _, l := range s.limiters {
		collectLimiter(ch, l.Snapshot())
	}
	for _, k := range s.keyed {
		collectKeyed(ch, k.Snapshot())
	}
	for _, b := range s.bulkheads {
		collectBulkhead(ch, b.Snapshot())
	}
	for _, a := range s.adaptive {
		collectAdaptive(ch, a.Snapshot())
	}
	s.collectPolicies(ch)
	s.collectSnapshots(ch)
}

// collectPolicies sends the samples of the stateless-looking policies:
// retries, budgets, timeouts, health targets, throttles, hedgers and
// injectors.
func (s sources) collectPolicies(ch chan<- prometheus.Metric) {
	for _, r := range s.retries {
		collectRetry(ch, r.Snapshot())
	}
	for _, b := range s.budgets {
		collectBudget(ch, b.name, b.b.Snapshot())
	}
	for _, t := range s.timeouts {
		collectTimeout(ch, t.Snapshot())
	}
	for _, h := range s.checkers {
		for _, t := range h.Snapshot() {
			collectTarget(ch, t)
		}
	}
	for _, t := range s.throttles {
		collectThrottle(ch, t.Snapshot())
	}
	for _, h := range s.hedgers {
		collectHedger(ch, h.Snapshot())
	}
	for _, i := range s.injectors {
		collectInjector(ch, i.Snapshot())
	}
}

// allBreakers lists the registries' breakers then the ones added directly,
// each once.
func (s sources) allBreakers() []*breaker.Breaker {
	seen := make(map[*breaker.Breaker]bool)
	var out []*breaker.Breaker
	add := func(b *breaker.Breaker) {
		if !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	for _, reg := range s.registries {
		for _, b := range reg.All() {
			add(b)
		}
	}
	for _, b := range s.breakers {
		add(b)
	}
	return out
}
