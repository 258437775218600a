package bulkhead

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
)

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
	// Classifier judges a call's error for [Adaptive.Guard] and
	// [AdaptivePermit.DoneErr]; nil, or an answer of Unclassified, means
	// [resilience.DefaultOutcome].
	Classifier resilience.ErrorClassifier
	// Name identifies the limit in rejections, events and snapshots.
	Name string
	// Clock times calls for LatencyTarget; nil means the real clock.
	Clock clock.Clock
	// Listeners receive an EventLimitChange each time the limit moves, and
	// an EventRejection for each refusal (only when a listener subscribes
	// to rejections).
	Listeners resilience.Listeners
}

// Adaptive is a concurrency limit that finds its own level by AIMD: each
// drop (a failure, or a success slower than LatencyTarget) multiplies the
// limit by BackoffPercent; each run of `limit` successes while the limit is
// being used (at least half of it in flight) adds one. Ignored outcomes (the
// caller's own cancellation, rejections by other policies) change nothing.
// Over the limit, calls are refused at once: queueing would hide the very
// latency the limit reacts to.
//
// Adaptive is a [resilience.Guard]: it goes into a pipeline of any result
// type as it is, judges each call's outcome with its classifier, and never
// starts a call whose context is already done. [Adaptive.Acquire] is the
// two-step form for code outside a pipeline.
//
// It takes a mutex per acquire and per completion; it is meant for calls
// to remote dependencies, not for nanosecond loops. The zero value is not
// usable; build one with [NewAdaptive]. It is safe for concurrent use.
type Adaptive struct {
	min, max, backoff int
	target            time.Duration
	name              string
	clk               clock.Clock
	classify          resilience.ErrorClassifier
	events            *resilience.Dispatcher
	tickets           tickets

	mu        sync.Mutex // protects limit, inFlight, successes and the totals
	limit     int
	inFlight  int
	successes int // since the limit last moved
	rejected  uint64
	drops     uint64
}

// NewAdaptive returns an adaptive limit configured by cfg. It refuses a bad
// configuration with a *[resilience.ConfigError].
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
		return nil, configError(cfg.Name, "Min", "must not be negative", cfg.Min)
	case cfg.Max < cfg.Min:
		return nil, configError(cfg.Name, "Max", fmt.Sprintf("must be at least Min (%d)", cfg.Min), cfg.Max)
	case cfg.Initial < cfg.Min || cfg.Initial > cfg.Max:
		return nil, configError(cfg.Name, "Initial", fmt.Sprintf("must be in [Min, Max] = [%d, %d]", cfg.Min, cfg.Max), cfg.Initial)
	case cfg.BackoffPercent < 1 || cfg.BackoffPercent > 99:
		return nil, configError(cfg.Name, "BackoffPercent", "must be in [1, 99]", cfg.BackoffPercent)
	case cfg.LatencyTarget < 0:
		return nil, configError(cfg.Name, "LatencyTarget", "must not be negative", cfg.LatencyTarget)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New()
	}
	return &Adaptive{
		min: cfg.Min, max: cfg.Max, backoff: cfg.BackoffPercent, target: cfg.LatencyTarget,
		name: cfg.Name, clk: cfg.Clock, classify: resilience.ClassifyErrors(cfg.Classifier),
		events: resilience.NewDispatcher(cfg.Listeners), limit: cfg.Initial,
	}, nil
}

// Guard runs the rest of the pipeline if fewer calls than the current limit
// are in flight, and records its outcome as judged by the classifier; a
// panic counts as a failure, then goes on to the caller. A refusal is a
// [resilience.Rejection] matching [ErrOverLimit]. A call whose context is
// already done is neither run nor judged: Guard returns the context's
// error. A nil *Adaptive fails every call with [ErrNil].
func (a *Adaptive) Guard(ctx context.Context, next resilience.Next) error {
	if a == nil {
		return ErrNil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	start, err := a.acquire()
	if err != nil {
		return err
	}
	finished := false
	defer func() {
		if !finished { // panicking: record, and let the panic go on
			a.done(resilience.Failure, a.latency(start))
		}
	}()
	err = next.Run(ctx)
	o := a.classify(ctx, err) // a classifier that panics leaves the call unfinished: a failure
	finished = true
	a.done(o, a.latency(start))
	return err
}

// Acquire admits a call if fewer than the current limit are in flight, or
// returns a rejection matching [ErrOverLimit]. Report the admitted call's
// outcome through the permit.
func (a *Adaptive) Acquire() (AdaptivePermit, error) {
	start, err := a.acquire()
	if err != nil {
		return AdaptivePermit{}, err
	}
	t, gen := a.tickets.issue()
	return AdaptivePermit{a: a, t: t, gen: gen, start: start}, nil
}

// acquire takes a slot and returns the call's start time, read only when
// latency matters.
func (a *Adaptive) acquire() (time.Time, error) {
	a.mu.Lock()
	if a.inFlight >= a.limit {
		a.rejected++
		a.mu.Unlock()
		err := resilience.Reject(adaptivePolicy, a.name, ErrOverLimit, 0)
		if a.events.Wants(resilience.EventRejection) {
			a.events.Emit(resilience.Event{Kind: resilience.EventRejection, Policy: adaptivePolicy,
				Name: a.name, Time: a.clk.Now(), Err: err})
		}
		return time.Time{}, err
	}
	a.inFlight++
	a.mu.Unlock()
	if a.target > 0 {
		return a.clk.Now(), nil
	}
	return time.Time{}, nil
}

func (a *Adaptive) latency(start time.Time) time.Duration {
	if a.target == 0 {
		return 0
	}
	return a.clk.Now().Sub(start)
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
	if a.limit != old && a.events.Wants(resilience.EventLimitChange) {
		a.events.Enqueue(resilience.Event{
			Kind: resilience.EventLimitChange, Policy: adaptivePolicy, Name: a.name, Time: a.clk.Now(),
			Reason: fmt.Sprintf("limit %d -> %d", old, a.limit), Detail: a.snapshotLocked(),
		})
	}
	a.mu.Unlock()
	a.events.Flush()
}

// Snapshot returns the current limit, the calls in flight and the totals.
func (a *Adaptive) Snapshot() AdaptiveSnapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.snapshotLocked()
}

func (a *Adaptive) snapshotLocked() AdaptiveSnapshot {
	return AdaptiveSnapshot{Name: a.name, Limit: a.limit, Min: a.min, Max: a.max, LatencyTarget: a.target,
		InFlight: a.inFlight, Rejected: a.rejected, Drops: a.drops}
}
