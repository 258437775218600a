package httpx

import (
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/hedge"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// policies builds and keeps the policy set of each key.
//
// Sets are read on every request and added rarely (a new host), so the
// map is copied on write and read with one atomic load: no lock, no
// allocation, no cache line shared by the readers.
type policies struct {
	t        *Transport
	cfg      TransportConfig // the parts each set is built from
	retry    *backoff.Retry  // shared by every key; nil when MaxAttempts is 1
	breakers *breaker.Registry
	maxKeys  int

	sets atomic.Pointer[map[string]*policySet]
	mu   sync.Mutex // serialises writers of sets
}

// policySet is the policies of one key: one pipeline for requests that
// may be repeated, one for those that may not, sharing the breaker and
// the limits.
type policySet struct {
	breaker  *breaker.Breaker
	once     resilience.Pipeline[*http.Response]
	repeated resilience.Pipeline[*http.Response]
	hedged   bool
}

func (ps *policies) init(t *Transport, cfg TransportConfig) error {
	ps.t, ps.cfg, ps.breakers, ps.maxKeys = t, cfg, cfg.Breakers, cfg.MaxKeys
	if ps.breakers == nil {
		ps.breakers = new(breaker.Registry)
	}
	if ps.maxKeys == 0 {
		ps.maxKeys = DefaultMaxKeys
	}
	ps.cfg.Breaker = ps.breakerConfig()
	if cfg.MaxAttempts != 1 {
		r, err := backoff.NewRetry(backoff.RetryConfig{
			Name: "httpx", MaxAttempts: cfg.MaxAttempts, Strategy: cfg.Backoff,
			MaxRetryAfter: t.maxRetryAfter, RetryIf: retryIf, Budget: cfg.Budget,
			Listeners: cfg.Listeners, Clock: cfg.Clock,
		})
		if err != nil {
			return err
		}
		ps.retry = r
	}
	// Build one set, unregistered, so that a bad configuration is
	// refused now rather than on the first request.
	if _, err := breaker.New(ps.cfg.Breaker); err != nil {
		return err
	}
	_, err := ps.build("", nil)
	return err
}

// breakerConfig is Breaker with the transport's clock and listeners.
func (ps *policies) breakerConfig() breaker.Config {
	b := ps.cfg.Breaker
	if b.Clock == nil {
		b.Clock = ps.cfg.Clock
	}
	b.Listeners = append(slices.Clip(b.Listeners), ps.cfg.Listeners...)
	return b
}

// lookup returns the set of key, if it has been built.
func (ps *policies) lookup(key string) (*policySet, bool) {
	if m := ps.sets.Load(); m != nil {
		s, ok := (*m)[key]
		return s, ok
	}
	return nil, false
}

// get returns the set of key, building it on the key's first request.
func (ps *policies) get(key string) (*policySet, error) {
	if s, ok := ps.lookup(key); ok {
		return s, nil
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	old := ps.sets.Load()
	if old != nil {
		if s, ok := (*old)[key]; ok {
			return s, nil
		}
	}
	n := 0
	if old != nil {
		n = len(*old)
	}
	if n >= ps.maxKeys {
		return nil, resilience.Reject("httpx", key, ErrTooManyKeys, 0)
	}
	br, err := ps.breakers.GetOrCreate(key, ps.cfg.Breaker)
	if err != nil {
		return nil, err
	}
	s, err := ps.build(key, br)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*policySet, n+1)
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	m[key] = s
	ps.sets.Store(&m)
	return s, nil
}

// build makes the set of key around br. A nil br (validation) stands for
// a breaker that is not registered.
func (ps *policies) build(key string, br *breaker.Breaker) (*policySet, error) {
	cfg := &ps.cfg
	var inner []resilience.Guard
	if cfg.Rate != (ratelimit.Rate{}) {
		l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: cfg.Rate, Burst: cfg.Burst, Name: key,
			Clock: cfg.Clock, Listeners: cfg.Listeners})
		if err != nil {
			return nil, err
		}
		inner = append(inner, l)
	}
	if cfg.MaxConcurrent > 0 {
		b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: cfg.MaxConcurrent, Name: key,
			Clock: cfg.Clock, Listeners: cfg.Listeners})
		if err != nil {
			return nil, err
		}
		inner = append(inner, b)
	}
	if br != nil {
		inner = append(inner, br)
	}
	inner = append(inner, statusGuard{ps.t})
	s := &policySet{breaker: br}
	s.once = resilience.NewPipeline[*http.Response](inner...).WithClassifier(ps.t.classify)

	var outer []resilience.Guard
	if ps.retry != nil {
		outer = append(outer, ps.retry, discardPrevious{})
	}
	if cfg.HedgeDelay > 0 {
		h, err := hedge.New(hedge.Config{Name: key, Delay: cfg.HedgeDelay, Quantile: cfg.HedgeQuantile,
			MaxHedges: cfg.MaxHedges, Budget: budget(cfg.Budget, ps.retry != nil), Clock: cfg.Clock, Listeners: cfg.Listeners})
		if err != nil {
			return nil, err
		}
		outer, s.hedged = append(outer, h), true
	}
	s.repeated = resilience.NewPipeline[*http.Response](append(outer, inner...)...).WithClassifier(ps.t.classify)
	return s, nil
}

// budget is the hedger's view of the transport's budget: nil for none (a
// nil *backoff.Budget must not become a non-nil hedge.Budget), and only
// its retries when the retry outside the hedger counts the requests.
func budget(b *backoff.Budget, retried bool) hedge.Budget {
	switch {
	case b == nil:
		return nil
	case retried:
		return b.Spender()
	}
	return b
}
