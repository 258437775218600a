package health

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience"
)

// ErrUnknownTarget is matched (errors.Is) by the error returned for a
// target name the checker does not have.
var ErrUnknownTarget = errors.New("health: unknown target")

// Checker probes its targets on a schedule and keeps their statuses.
//
// Create it with [New]; the zero value is not usable. Probing starts with
// [Checker.Start] and ends with [Checker.Stop], which waits for every loop
// to finish. A target's probes never overlap. All methods are safe for
// concurrent use.
type Checker struct {
	cfg     Config
	clk     clock.Clock // cfg.Clock, or the real clock when that is nil
	targets map[string]*target
	order   []*target
	events  *resilience.Dispatcher

	mu      sync.Mutex // protects cancel; held by Start and Stop
	cancel  context.CancelFunc
	running sync.WaitGroup

	randMu sync.Mutex // protects cfg.Rand
}

// New returns a checker for targets, or an error joining a
// [*resilience.ConfigError] for every rule the configuration breaks.
func New(cfg Config, targets ...Target) (*Checker, error) {
	if err := cfg.validate(targets); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	c := &Checker{cfg: cfg, clk: cfg.Clock, targets: make(map[string]*target, len(targets)),
		events: resilience.NewDispatcher(cfg.Listeners)}
	if c.clk == nil {
		// cfg.Clock stays nil: probe deadlines then take the runtime's
		// own timers (see probeContext).
		c.clk = clock.New()
	}
	for _, t := range targets {
		tt := &target{Target: t, c: c, timeout: cfg.probeTimeout(t)}
		tt.timeoutErr = &timeoutError{target: t.Name, timeout: tt.timeout}
		c.targets[t.Name] = tt
		c.order = append(c.order, tt)
	}
	return c, nil
}

// Start launches one probe loop per target. Each first probe waits a random
// jitter in [0, Jitter]. Start after Start (without Stop) is an error.
func (c *Checker) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		return errors.New("health: Checker already started")
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	for _, t := range c.order {
		c.running.Add(1)
		go t.loop(ctx, &c.running)
	}
	return nil
}

// Stop ends the probe loops, cancelling probes in flight, and waits for
// them to return. Breakers bound with [BindBreaker] and held open are
// released to half-open, since nothing would release them any more. It is
// a no-op on a checker that is not running; a stopped checker can be
// started again. Stop waits for the loops, so it must not be called from a
// listener, which runs on a loop's goroutine.
func (c *Checker) Stop() {
	c.mu.Lock()
	if c.cancel == nil {
		c.mu.Unlock()
		return
	}
	c.cancel()
	c.running.Wait()
	c.cancel = nil
	c.mu.Unlock()
	for _, t := range c.order { // outside c.mu: releasing runs the breakers' listeners
		t.releaseHolds()
	}
}

// Probe runs one probe of the named target now, outside the schedule (it
// waits for a scheduled probe in flight to finish first), records its
// result and returns the target's status after it.
func (c *Checker) Probe(ctx context.Context, name string) (Status, error) {
	t, err := c.target(name)
	if err != nil {
		return Unknown, err
	}
	t.probe(ctx, false)
	return t.snapshot().Status, nil
}

// Status returns the named target's status, Unknown for a name the checker
// does not have (use [Checker.Lookup] to tell the two apart).
func (c *Checker) Status(name string) Status {
	s, _ := c.Lookup(name)
	return s.Status
}

// Lookup returns the named target's state, and false when the checker has
// no such target.
func (c *Checker) Lookup(name string) (TargetSnapshot, bool) {
	t, err := c.target(name)
	if err != nil {
		return TargetSnapshot{}, false
	}
	return t.snapshot(), true
}

// Snapshot returns every target's state, in the order they were given.
func (c *Checker) Snapshot() []TargetSnapshot {
	if c == nil {
		return nil
	}
	out := make([]TargetSnapshot, 0, len(c.order))
	for _, t := range c.order {
		out = append(out, t.snapshot())
	}
	return out
}

// Ready reports whether every critical target is Healthy.
func (c *Checker) Ready() bool {
	for _, t := range c.Snapshot() {
		if t.Critical && t.Status != Healthy {
			return false
		}
	}
	return true
}

// target finds a target by name; a nil checker has none.
func (c *Checker) target(name string) (*target, error) {
	if c == nil {
		return nil, fmt.Errorf("%w %q: nil Checker", ErrUnknownTarget, name)
	}
	t, ok := c.targets[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownTarget, name)
	}
	return t, nil
}

// jitter draws a delay in [0, Jitter].
func (c *Checker) jitter() time.Duration {
	if c.cfg.Jitter <= 0 {
		return 0
	}
	n := int64(c.cfg.Jitter) + 1
	if c.cfg.Rand == nil {
		return time.Duration(rand.Int64N(n))
	}
	c.randMu.Lock()
	defer c.randMu.Unlock()
	return time.Duration(c.cfg.Rand.Int64N(n))
}
