package hedge

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
)

// Hedger is a [resilience.Guard] that, when an attempt is slow, starts
// another and takes the first good answer. Put it only in pipelines whose
// calls are safe to repeat (reads, status lookups, writes carrying an
// idempotency key): placing it there is the declaration. Build another
// pipeline for calls that are not.
//
// A call runs its first attempt on the caller's goroutine, with a context
// of its own. If no good answer has come after the delay, and the budget
// allows, a hedge starts on a goroutine of its own, with its own context
// and its own [resilience.Next.Fork] of the rest of the pipeline; another
// follows after each further delay, up to MaxHedges. The first attempt
// judged a success ends the call: its result becomes the call's (a hedge's
// through [resilience.Next.Adopt]) and the other attempts' contexts are
// cancelled.
//
// Because the first attempt holds the caller's goroutine, a call answered
// by a hedge returns once the first attempt has returned after its
// cancellation: at once for a function that honours its context, as the
// standard library's network clients do; a function that ignores its
// context gains nothing from hedging. In return, a call answered before
// the delay starts no goroutine, reuses its timer and forks nothing (a
// hedge forks the rest of the pipeline when it starts); it allocates only
// the context of its own the first attempt needs so that a winning hedge
// can cancel it: one object, which becomes a context.WithCancel of the
// caller's context only once something waits on it (its Done, a context
// derived from it; see BenchmarkFastPath). That context is fresh for
// every call, never pooled: the function may hand it to work that
// outlives the call, which must see it cancelled, not find another
// call's values in it. A hedge that
// loses is cancelled and not waited for: it touches only its own fork, and
// its goroutine ends when its function returns. A panic in a hedge before
// the call is decided is raised in the caller as a *[resilience.PanicError];
// one in a hedge that lost goes to the listeners as an EventPanic.
//
// When no attempt succeeds, the call ends as its first attempt did, once
// every attempt started has ended: hedging is not retrying, so a first
// attempt that fails before the delay is not hedged (put a retry outside).
//
// With a Quantile, the delay is that quantile of the latencies of recent
// first attempts: those that succeeded, and those cancelled because a
// hedge won (their time is a lower bound, always above the delay, so the
// quantile's rank stays right). Failures are left out, so that fast errors
// in an outage do not shrink the delay. See [Config.Window] for how the
// estimate forgets.
//
// A Hedger must be made by [New]; a nil *Hedger fails every call with
// [ErrNilHedger]. It is safe for concurrent use. Its reused timers belong
// to the testing/synctest bubble they were made in, so a Hedger used in a
// bubble must be used only there.
type Hedger struct {
	name      string
	fixed     time.Duration
	maxHedges int
	budget    Budget
	classify  resilience.ErrorClassifier
	clock     clock.Clock // nil: the real clock
	disp      *resilience.Dispatcher
	est       *estimator // nil with a fixed delay
	pool      sync.Pool  // of *call with a real-clock timer, reused after a call that started no hedge

	calls, hedges, wins, refused atomic.Uint64
}

// New returns a hedger, or a *[resilience.ConfigError] naming the first
// field of cfg that breaks its rule.
func New(cfg Config) (*Hedger, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	h := &Hedger{
		name: cfg.Name, fixed: cfg.Delay, maxHedges: max(cfg.MaxHedges, 1), budget: cfg.Budget,
		classify: cfg.Classifier, clock: cfg.Clock, disp: resilience.NewDispatcher(cfg.Listeners),
	}
	if h.classify == nil {
		h.classify = resilience.DefaultOutcome
	}
	if cfg.Quantile > 0 {
		window := cfg.Window
		if window == 0 {
			window = DefaultWindow
		}
		h.est = newEstimator(cfg.Quantile, window)
	}
	return h, nil
}

// Guard runs the call's first attempt and hedges it when it is slow. A
// call whose context is already done is not started.
func (h *Hedger) Guard(ctx context.Context, next resilience.Next) error {
	if h == nil {
		return ErrNilHedger
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	h.calls.Add(1)
	if h.budget != nil {
		h.budget.Request()
	}
	first := &firstCtx{Context: ctx}
	c := h.start(ctx, next, first)
	var began time.Duration
	if h.est != nil {
		began = h.elapsed()
	}
	finished := false
	defer func() {
		// Only a panic in the first attempt (or runtime.Goexit) gets here
		// unfinished: stop the hedges and let the panic go on. A hedge's
		// panic, raised by settle, finds the call finished.
		if !finished {
			c.abandon()
		}
		first.cancel()
	}()
	err := next.Run(first)
	finished = true
	if c.stop() && c.launched.Load() == 0 {
		// No hedge started and none will: nobody else holds c.
		h.observe(ctx, began, err, false)
		h.recycle(c)
		return err
	}
	err, byHedge := c.settle(err, next)
	h.observe(ctx, began, err, byHedge)
	return err
}

// delay returns the wait before the next hedge.
func (h *Hedger) delay() time.Duration {
	if h.est != nil {
		if d := h.est.estimate(); d > 0 {
			return d
		}
	}
	return h.fixed
}

// observe records the first attempt's latency for the quantile: when it
// succeeded, or when it lost to a hedge; not when the caller left.
func (h *Hedger) observe(ctx context.Context, began time.Duration, err error, byHedge bool) {
	if h.est == nil || ctx.Err() != nil {
		return
	}
	if byHedge || h.classify(ctx, err) == resilience.Success {
		h.est.record(h.elapsed() - began)
	}
}

// epoch is the real clock's time zero for latencies: time.Since reads only
// the monotonic clock, about half the cost of time.Now.
var epoch = time.Now()

// elapsed returns the time since an arbitrary fixed point, for latencies.
func (h *Hedger) elapsed() time.Duration {
	if h.clock == nil {
		return time.Since(epoch)
	}
	return h.clock.Since(epoch)
}

func (h *Hedger) now() time.Time {
	if h.clock == nil {
		return time.Now()
	}
	return h.clock.Now()
}
