package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// ErrUnknownTarget is returned for a target name the checker does not have.
var ErrUnknownTarget = errors.New("health: unknown target")

// Checker probes its targets on a schedule and keeps their statuses.
//
// Create it with [New]; the zero value is not usable. Probing starts with
// [Checker.Start] and ends with [Checker.Stop], which waits for every loop
// to finish. A target's probes never overlap. All methods are safe for
// concurrent use.
type Checker struct {
	cfg     Config
	targets map[string]*target
	order   []*target
	events  *resilience.Dispatcher

	bindMu sync.RWMutex // protects binds
	binds  map[string][]*binding

	mu      sync.Mutex // protects cancel and running; held by Start and Stop
	cancel  context.CancelFunc
	running sync.WaitGroup
	randMu  sync.Mutex // protects cfg.Rand
}

// New returns a checker for targets, or an error naming every bad field.
func New(cfg Config, targets ...Target) (*Checker, error) {
	if err := cfg.validate(targets); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	c := &Checker{cfg: cfg, targets: make(map[string]*target, len(targets))}
	// Bound breakers hear of a change before the caller's listeners, so a
	// listener that reads a breaker sees it already follow the target.
	c.events = resilience.NewDispatcher(append(resilience.Listeners{c.notifyBindings}, cfg.Listeners...))
	for _, t := range targets {
		tt := &target{Target: t, c: c}
		tt.probeTimeout = resilience.Must(timeout.NewWithConfig[struct{}](timeout.Config{
			Timeout: cfg.Timeout, Name: "health " + t.Name, Clock: cfg.Clock}))
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
	c.releaseHolds() // outside c.mu: it runs the breakers' listeners
}

// Probe runs one probe of the named target now, outside the schedule (it
// waits for a scheduled probe in flight to finish first), records its
// result and returns the target's status after it.
func (c *Checker) Probe(ctx context.Context, name string) (Status, error) {
	t, ok := c.targets[name]
	if !ok {
		return Unknown, fmt.Errorf("%w %q", ErrUnknownTarget, name)
	}
	t.probe(ctx, false)
	return t.snapshot().Status, nil
}

// Status returns the named target's status (Unknown for an unknown name).
func (c *Checker) Status(name string) Status {
	t, ok := c.targets[name]
	if !ok {
		return Unknown
	}
	return t.snapshot().Status
}

// Snapshot returns every target's state, in the order they were given.
func (c *Checker) Snapshot() []TargetSnapshot {
	out := make([]TargetSnapshot, 0, len(c.order))
	for _, t := range c.order {
		out = append(out, t.snapshot())
	}
	return out
}

// Ready reports whether every critical target is Healthy.
func (c *Checker) Ready() bool {
	for _, t := range c.order {
		if t.Critical && t.snapshot().Status != Healthy {
			return false
		}
	}
	return true
}

// jitter draws a delay in [0, Jitter].
func (c *Checker) jitter() time.Duration {
	if c.cfg.Jitter <= 0 {
		return 0
	}
	if c.cfg.Rand == nil {
		return randN(c.cfg.Jitter + 1)
	}
	c.randMu.Lock()
	defer c.randMu.Unlock()
	return time.Duration(c.cfg.Rand.Int64N(int64(c.cfg.Jitter) + 1))
}
