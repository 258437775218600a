package riprapotel

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

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

// ScopeName is the instrumentation scope of the meter and tracer this
// package uses.
const ScopeName = "github.com/riprap-go/riprap/contrib/otel"

// Metrics exports riprap components as OpenTelemetry observable
// instruments. One callback reads every added component's Snapshot when
// the SDK collects, so a series shows the component's state from the first
// collection on, never a value set by an event. Add the components with
// the Add methods; components may be added at any time.
//
// Nil components are skipped. A breaker reached both through a registry
// and directly is read once. Names label the series, so two components of
// one kind should not share a name.
//
// Create it with [NewMetrics]; the zero value is not usable. A Metrics is
// safe for concurrent use.
type Metrics struct {
	reg metric.Registration

	mu  sync.Mutex // protects src
	src sources
}

// NewMetrics creates the instruments on mp's meter for [ScopeName] and
// registers the callback that feeds them. A nil mp means the global
// provider. It fails only when mp refuses an instrument or the callback.
func NewMetrics(mp metric.MeterProvider) (*Metrics, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter(ScopeName)
	ins := make([]metric.Float64Observable, len(families))
	obs := make([]metric.Observable, len(families))
	for _, f := range families {
		in, err := f.instrument(meter)
		if err != nil {
			return nil, err
		}
		ins[f.id], obs[f.id] = in, in
	}
	m := &Metrics{}
	reg, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		m.observe(observer{o: o, ins: ins})
		return nil
	}, obs...)
	if err != nil {
		return nil, err
	}
	m.reg = reg
	return m, nil
}

// Close unregisters the callback: the instruments report nothing more.
func (m *Metrics) Close() error {
	if m == nil || m.reg == nil {
		return errors.New("riprapotel: Close of a Metrics not made by NewMetrics")
	}
	return m.reg.Unregister()
}

// sources are the components a Metrics reads, grouped by kind.
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
}

// namedBudget is a retry budget with the name that labels its series.
type namedBudget struct {
	name string
	b    *backoff.Budget
}

func appendNonNil[P comparable](list []P, add []P) []P {
	var zero P
	for _, p := range add {
		if p != zero {
			list = append(list, p)
		}
	}
	return list
}

// add runs f on the sources under the lock and returns m, so Add calls chain.
func (m *Metrics) add(f func(s *sources)) *Metrics {
	m.mu.Lock()
	f(&m.src)
	m.mu.Unlock()
	return m
}

// AddBreakers adds every breaker of reg, read at each collection, so
// breakers created later are exported too.
func (m *Metrics) AddBreakers(reg *breaker.Registry) *Metrics {
	return m.add(func(s *sources) { s.registries = appendNonNil(s.registries, []*breaker.Registry{reg}) })
}

// AddBreaker adds circuit breakers.
func (m *Metrics) AddBreaker(bs ...*breaker.Breaker) *Metrics {
	return m.add(func(s *sources) { s.breakers = appendNonNil(s.breakers, bs) })
}

// AddLimiter adds rate limiters.
func (m *Metrics) AddLimiter(ls ...*ratelimit.Limiter) *Metrics {
	return m.add(func(s *sources) { s.limiters = appendNonNil(s.limiters, ls) })
}

// AddKeyed adds keyed rate limiters.
func (m *Metrics) AddKeyed(ks ...*ratelimit.Keyed) *Metrics {
	return m.add(func(s *sources) { s.keyed = appendNonNil(s.keyed, ks) })
}

// AddBulkhead adds bulkheads.
func (m *Metrics) AddBulkhead(bs ...*bulkhead.Bulkhead) *Metrics {
	return m.add(func(s *sources) { s.bulkheads = appendNonNil(s.bulkheads, bs) })
}

// AddAdaptive adds adaptive concurrency limits, exported as bulkheads whose
// limit moves.
func (m *Metrics) AddAdaptive(as ...*bulkhead.Adaptive) *Metrics {
	return m.add(func(s *sources) { s.adaptive = appendNonNil(s.adaptive, as) })
}

// AddRetry adds retry policies.
func (m *Metrics) AddRetry(rs ...*backoff.Retry) *Metrics {
	return m.add(func(s *sources) { s.retries = appendNonNil(s.retries, rs) })
}

// AddBudget adds a retry budget under name; a nil budget is skipped.
func (m *Metrics) AddBudget(name string, b *backoff.Budget) *Metrics {
	if b == nil {
		return m
	}
	return m.add(func(s *sources) { s.budgets = append(s.budgets, namedBudget{name, b}) })
}

// AddTimeout adds timeout policies.
func (m *Metrics) AddTimeout(ts ...*timeout.Timeout) *Metrics {
	return m.add(func(s *sources) { s.timeouts = appendNonNil(s.timeouts, ts) })
}

// AddChecker adds the targets of health checkers.
func (m *Metrics) AddChecker(hs ...*health.Checker) *Metrics {
	return m.add(func(s *sources) { s.checkers = appendNonNil(s.checkers, hs) })
}

// AddThrottle adds adaptive throttles.
func (m *Metrics) AddThrottle(ts ...*throttle.Throttle) *Metrics {
	return m.add(func(s *sources) { s.throttles = appendNonNil(s.throttles, ts) })
}

// AddHedger adds hedging policies.
func (m *Metrics) AddHedger(hs ...*hedge.Hedger) *Metrics {
	return m.add(func(s *sources) { s.hedgers = appendNonNil(s.hedgers, hs) })
}

// AddInjector adds fault injectors.
func (m *Metrics) AddInjector(is ...*chaos.Injector) *Metrics {
	return m.add(func(s *sources) { s.injectors = appendNonNil(s.injectors, is) })
}

// observe reads every component, outside the lock: a slow snapshot never
// blocks an Add.
func (m *Metrics) observe(ob observer) {
	m.mu.Lock()
	s := m.src // the slices are only appended to, so this copy is stable
	m.mu.Unlock()
	for _, b := range s.allBreakers() {
		ob.breaker(b.Snapshot())
	}
	for _, l := range s.limiters {
		ob.limiter(l.Snapshot())
	}
	for _, k := range s.keyed {
		ob.keyed(k.Snapshot())
	}
	for _, b := range s.bulkheads {
		ob.bulkhead(b.Snapshot())
	}
	for _, a := range s.adaptive {
		ob.adaptive(a.Snapshot())
	}
	s.observePolicies(ob)
}

// observePolicies reads retries, budgets, timeouts, health targets,
// throttles, hedgers and injectors.
func (s sources) observePolicies(ob observer) {
	for _, r := range s.retries {
		ob.retry(r.Snapshot())
	}
	for _, b := range s.budgets {
		ob.budget(b.name, b.b.Snapshot())
	}
	for _, t := range s.timeouts {
		ob.timeout(t.Snapshot())
	}
	for _, h := range s.checkers {
		for _, t := range h.Snapshot() {
			ob.target(t)
		}
	}
	for _, t := range s.throttles {
		ob.throttle(t.Snapshot())
	}
	for _, h := range s.hedgers {
		ob.hedger(h.Snapshot())
	}
	for _, i := range s.injectors {
		ob.injector(i.Snapshot())
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
