package chaos

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
)

// Kind says what an [Injector] injects.
type Kind uint8

// The kinds of injection.
const (
	KindFault Kind = iota + 1
	KindLatency
	KindResult
	KindBehavior
)

var kindNames = [...]string{"unknown", "fault", "latency", "result", "behavior"}

// String returns "fault", "latency", "result" or "behavior".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return kindNames[0]
}

// MarshalText writes the kind as its String form, for JSON.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Injector is a [resilience.Guard] that injects a fault, a latency, a
// result or a behaviour into a share of the calls it sees, while it is
// switched on. Make one with [Fault], [Latency], [Result] or [Behavior].
//
// Switched off, an injector passes every call straight through at the cost
// of one atomic load: the switch is an atomic flag rather than a mutex so
// that an injector left in a production pipeline costs nothing measurable.
// Switched on, it asks [Config.Enabled] (if set), then draws from its
// generator (unless the rate is 1) under a mutex, because a PCG generator
// is not safe for concurrent use.
//
// A nil *Injector fails every call with [ErrNilInjector]. An Injector is
// safe for concurrent use.
type Injector struct {
	on      atomic.Bool
	name    string
	kind    Kind
	rate    float64
	enabled func(context.Context) bool
	clock   clock.Clock // nil: the real clock
	latency time.Duration
	inject  func(ctx context.Context, next resilience.Next) error

	mu  sync.Mutex // protects rnd
	rnd *rand.Rand

	injected, passed atomic.Uint64
}

func newInjector(kind Kind, cfg Config) (*Injector, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	i := &Injector{
		name: cfg.Name, kind: kind, rate: cfg.rate(), enabled: cfg.Enabled, clock: cfg.Clock,
		rnd: rand.New(rand.NewPCG(seed, seed)),
	}
	i.on.Store(cfg.On)
	return i, nil
}

// Guard runs the call, or injects instead of or before it when the
// injector is on and the call is picked.
func (i *Injector) Guard(ctx context.Context, next resilience.Next) error {
	if i == nil {
		return ErrNilInjector
	}
	if !i.on.Load() {
		return next.Run(ctx)
	}
	return i.maybe(ctx, next)
}

// maybe is kept out of Guard so that the switched-off path stays short.
func (i *Injector) maybe(ctx context.Context, next resilience.Next) error {
	if i.enabled != nil && !i.enabled(ctx) {
		return next.Run(ctx)
	}
	if !i.pick() {
		i.passed.Add(1)
		return next.Run(ctx)
	}
	i.injected.Add(1)
	return i.inject(ctx, next)
}

// pick draws whether this call gets the injection.
func (i *Injector) pick() bool {
	if i.rate >= 1 {
		return true
	}
	i.mu.Lock()
	u := i.rnd.Float64()
	i.mu.Unlock()
	return u < i.rate
}

// Enable switches the injector on.
func (i *Injector) Enable() {
	if i != nil {
		i.on.Store(true)
	}
}

// Disable switches the injector off. Calls already injected carry on.
func (i *Injector) Disable() {
	if i != nil {
		i.on.Store(false)
	}
}

// On reports whether the injector is switched on.
func (i *Injector) On() bool { return i != nil && i.on.Load() }

// Kind reports what the injector injects.
func (i *Injector) Kind() Kind {
	if i == nil {
		return 0
	}
	return i.kind
}

// wait sleeps d on the injector's clock, or until ctx ends.
func (i *Injector) wait(ctx context.Context, d time.Duration) error {
	if i.clock == nil {
		t := time.NewTimer(d)
		defer t.Stop()
		return waitOn(ctx, t.C)
	}
	t := i.clock.Timer(d)
	defer t.Stop()
	return waitOn(ctx, t.C)
}

func waitOn(ctx context.Context, c <-chan time.Time) error {
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
