package ratelimit

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
)

// ErrOverLimit is the sentinel of an [Adaptive] rejection: the calls in
// flight have reached the current adaptive limit.
var ErrOverLimit = errors.New("ratelimit: adaptive concurrency limit reached")

// AdaptiveConfig configures an [Adaptive] concurrency limit. It is a plain
// value; every zero field means its documented default.
type AdaptiveConfig struct {
	// Initial, Min and Max bound the limit; defaults 10, 1 and 1000.
	Initial, Min, Max int
	// LatencyTarget makes a success slower than it count as a drop; zero
	// means only failures are drops.
	LatencyTarget time.Duration
	// BackoffPercent is what remains of the limit after a drop, in
	// percent, in [1, 99]; default 90.
	BackoffPercent int
	// Name identifies the limit in rejections, events and snapshots.
	Name string
	// Clock times calls for LatencyTarget; nil means the real clock.
	Clock clock.Clock
	// Listeners receive an EventLimitChange each time the limit moves.
	Listeners resilience.Listeners
}

// Adaptive is a concurrency limit that finds its own level by AIMD, after
// Netflix's concurrency-limits: each drop (a failure, or a success slower
// than LatencyTarget) multiplies the limit by BackoffPercent; each run of
// `limit` successes while the limit is being used (at least half of it in
// flight) adds one. Ignored outcomes (the caller's own cancellation,
// rejections by other policies) change nothing. Over the limit, calls are
// refused at once: queueing would hide the very latency the limit reacts
// to.
//
// It takes a mutex per acquire and per completion; it is meant for calls
// to remote dependencies, not for nanosecond loops. The zero value is not
// usable; build one with [NewAdaptive]. It is safe for concurrent use.
type Adaptive struct {
	min, max, backoff int
	target            time.Duration
	name              string
	clk               clock.Clock
	events            *resilience.Dispatcher

	mu        sync.Mutex // protects limit, inFlight, successes and the totals
	limit     int
	inFlight  int
	successes int // since the limit last moved
	rejected  uint64
	drops     uint64
}

// NewAdaptive returns an adaptive limit configured by cfg.
func NewAdaptive(cfg AdaptiveConfig) (*Adaptive, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.Initial, 10)
	def(&cfg.Min, 1)
	def(&cfg.Max, 1000)
	def(&cfg.BackoffPercent, 90)
	switch {
	case cfg.Min < 1:
		return nil, fmt.Errorf("ratelimit: Min must be at least 1, got %d", cfg.Min)
	case cfg.Max < cfg.Min:
		return nil, fmt.Errorf("ratelimit: Max must be at least Min (%d), got %d", cfg.Min, cfg.Max)
	case cfg.Initial < cfg.Min || cfg.Initial > cfg.Max:
		return nil, fmt.Errorf("ratelimit: Initial must be in [Min, Max] = [%d, %d], got %d", cfg.Min, cfg.Max, cfg.Initial)
	case cfg.BackoffPercent < 1 || cfg.BackoffPercent > 99:
		return nil, fmt.Errorf("ratelimit: BackoffPercent must be in [1, 99], got %d", cfg.BackoffPercent)
	case cfg.LatencyTarget < 0:
		return nil, fmt.Errorf("ratelimit: LatencyTarget must not be negative, got %v", cfg.LatencyTarget)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New()
	}
	return &Adaptive{
		min: cfg.Min, max: cfg.Max, backoff: cfg.BackoffPercent, target: cfg.LatencyTarget,
		name: cfg.Name, clk: cfg.Clock, events: resilience.NewDispatcher(cfg.Listeners),
		limit: cfg.Initial,
	}, nil
}

// AdaptivePermit is one admitted call. Report its outcome exactly once
// with Done; the zero value's Done does nothing.
type AdaptivePermit struct {
	a     *Adaptive
	start time.Time
}

// Acquire admits a call if fewer than the current limit are in flight, or
// returns a rejection matching [ErrOverLimit] (also reported to the
// listeners as an EventRejection).
func (a *Adaptive) Acquire() (AdaptivePermit, error) {
	a.mu.Lock()
	if a.inFlight >= a.limit {
		a.rejected++
		a.mu.Unlock()
		err := resilience.Reject("adaptive", a.name, ErrOverLimit, 0)
		if a.events.Active() {
			a.events.Emit(resilience.Event{Kind: resilience.EventRejection, Policy: "adaptive", Name: a.name,
				Time: a.clk.Now(), Err: err})
		}
		return AdaptivePermit{}, err
	}
	a.inFlight++
	a.mu.Unlock()
	p := AdaptivePermit{a: a}
	if a.target > 0 { // the clock is read only when latency matters
		p.start = a.clk.Now()
	}
	return p, nil
}

// Done reports the call's outcome and frees its slot.
func (p AdaptivePermit) Done(o resilience.Outcome) {
	if p.a == nil {
		return
	}
	var latency time.Duration
	if p.a.target > 0 {
		latency = p.a.clk.Now().Sub(p.start)
	}
	p.a.done(o, latency)
}

func (a *Adaptive) done(o resilience.Outcome, latency time.Duration) {
	drop := o == resilience.Failure || (o == resilience.Success && a.target > 0 && latency > a.target)
	a.mu.Lock()
	used := a.inFlight*2 >= a.limit // measured before this call leaves
	a.inFlight = max(a.inFlight-1, 0)
	old := a.limit
	switch {
	case drop:
		a.drops++
		// limit*backoff/100 without the product, which overflows for big limits.
		a.limit = max(a.min, a.limit/100*a.backoff+a.limit%100*a.backoff/100)
		a.successes = 0
	case o == resilience.Success && used:
		if a.successes++; a.successes >= a.limit {
			a.limit = min(a.max, a.limit+1)
			a.successes = 0
		}
	}
	if a.limit != old {
		a.events.Enqueue(resilience.Event{
			Kind: resilience.EventLimitChange, Policy: "adaptive", Name: a.name, Time: a.clk.Now(),
			Reason: fmt.Sprintf("limit %d → %d", old, a.limit),
		})
	}
	a.mu.Unlock()
	a.events.Flush()
}

// AdaptiveSnapshot is a point-in-time view of an [Adaptive] limit.
type AdaptiveSnapshot struct {
	Name     string
	Limit    int
	InFlight int
	Rejected uint64 // calls refused over the limit
	Drops    uint64 // failures and slow successes seen
}

// Snapshot returns the current limit, the calls in flight and the totals.
func (a *Adaptive) Snapshot() AdaptiveSnapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	return AdaptiveSnapshot{Name: a.name, Limit: a.limit, InFlight: a.inFlight, Rejected: a.rejected, Drops: a.drops}
}
