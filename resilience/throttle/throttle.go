package throttle

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
)

// Throttle refuses calls locally with probability
// max(0, (requests − K·accepts) / (requests + 1)), where requests counts
// the calls refused by the throttle plus those admitted and judged a
// success or a failure, and accepts counts the successes, both over the last
// Window (see [Config]). The window is a ring of Buckets counters aligned
// on the clock; the oldest bucket drops out as time moves, with no
// goroutine. A call in flight counts when it finishes.
//
// Each decision with a positive probability draws one uniform number from a
// PCG generator seeded by [Config.Seed] and refuses when it falls below the
// probability; a decision with probability zero draws nothing. So with a
// seed the decisions are reproducible.
//
// A Throttle is a [resilience.Guard], and offers the two-step
// [Throttle.Allow] and [Permit.Done] for code that makes its calls itself.
// It must be made by [New]; a nil *Throttle refuses every call with
// [ErrNilThrottle]. It is safe for concurrent use: one mutex guards the
// window and the generator, held for a few additions per call, and no
// listener or classifier runs under it.
type Throttle struct {
	name        string
	k           float64
	minRequests int64
	width       time.Duration // of one bucket
	window      time.Duration
	clock       clock.Clock // nil: the real clock
	classify    resilience.ErrorClassifier
	disp        *resilience.Dispatcher
	rejected    *resilience.Rejection // shared by every refusal: it never changes

	mu      sync.Mutex // protects everything below
	rnd     *rand.Rand
	buckets []counts
	epoch   int64 // absolute index (now / width) of the current bucket
	cur     int   // position of the current bucket in buckets
	sum     counts
	totals  Totals
}

// counts is one bucket of the window, or the whole window.
type counts struct{ requests, accepts int64 }

// New returns a throttle, or a *[resilience.ConfigError] naming the first
// field of cfg that breaks its rule.
func New(cfg Config) (*Throttle, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	window, buckets := cfg.withDefaults()
	t := &Throttle{
		name:        cfg.Name,
		k:           cfg.K,
		minRequests: int64(cfg.MinRequests),
		width:       window / time.Duration(buckets),
		clock:       cfg.Clock,
		classify:    cfg.Classifier,
		disp:        resilience.NewDispatcher(cfg.Listeners),
		rejected:    &resilience.Rejection{Policy: policyName, Name: cfg.Name, Reason: ErrThrottled},
		buckets:     make([]counts, buckets),
	}
	t.window = t.width * time.Duration(buckets)
	if t.k == 0 {
		t.k = DefaultK
	}
	if t.classify == nil {
		t.classify = resilience.DefaultOutcome
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.rnd = rand.New(rand.NewPCG(seed, seed))
	t.epoch = t.index(t.now())
	return t, nil
}

// Name returns the configured name.
func (t *Throttle) Name() string {
	if t == nil {
		return ""
	}
	return t.name
}

// Guard runs the rest of the pipeline unless the throttle refuses the call,
// then counts its outcome. A call whose context is already done is neither
// started nor counted. A panic is counted as a failure and goes on up the
// caller's stack.
func (t *Throttle) Guard(ctx context.Context, next resilience.Next) error {
	// resilience.RunStepper, written out: Enter and Exit called on the
	// concrete type, not through the interface, save a few ns on every
	// call of a pipeline that is not all Steppers.
	tk, err := t.Enter(ctx)
	if err != nil {
		return err
	}
	exited := false
	defer func() {
		// Only a panic (or runtime.Goexit) gets here before Exit; not
		// recovering lets it continue with its original stack.
		if !exited {
			t.Exit(ctx, tk, resilience.ErrPanicked)
		}
	}()
	err = next.Run(ctx)
	exited = true // Exit answers for a panic of its own
	t.Exit(ctx, tk, err)
	return err
}

// Enter decides on a call as [Throttle.Guard] does, making *Throttle a
// [resilience.Stepper]: a pipeline of Steppers runs it without a call
// record. The ticket is empty: the throttle's permit is the throttle.
func (t *Throttle) Enter(ctx context.Context) (resilience.Ticket, error) {
	if t == nil {
		return resilience.Ticket{}, ErrNilThrottle
	}
	if err := ctx.Err(); err != nil {
		return resilience.Ticket{}, err
	}
	_, err := t.Allow()
	return resilience.Ticket{}, err
}

// Exit counts the outcome of a call admitted by [Throttle.Enter], judged
// by the classifier; [resilience.ErrPanicked] counts as a failure, and so
// does a call whose classifier panics (the panic goes on).
func (t *Throttle) Exit(ctx context.Context, _ resilience.Ticket, err error) {
	p := Permit{t: t}
	if err == resilience.ErrPanicked {
		p.finish(resilience.Failure, errPanicked)
		return
	}
	judged := false
	defer func() {
		if !judged {
			p.finish(resilience.Failure, errPanicked)
		}
	}()
	o := t.classify(ctx, err)
	judged = true
	p.finish(o, err)
}

// Allow decides whether to make one call. It returns a [Permit] to report
// the call's outcome with, or a rejection matching [ErrThrottled], which is
// counted as a request at once.
func (t *Throttle) Allow() (Permit, error) {
	if t == nil {
		return Permit{}, ErrNilThrottle
	}
	t.mu.Lock()
	t.advance()
	p := t.probability()
	refuse := p > 0 && t.rnd.Float64() < p
	if refuse {
		t.add(counts{requests: 1})
		t.totals.Throttled++
	} else {
		t.totals.Admitted++
	}
	t.mu.Unlock()
	if !refuse {
		return Permit{t: t}, nil
	}
	if t.disp.Wants(resilience.EventRejection) {
		t.disp.Emit(resilience.Event{Kind: resilience.EventRejection, Policy: policyName, Name: t.name,
			Time: t.now(), Err: t.rejected, Reason: "throttled"})
	}
	return Permit{}, t.rejected
}

// probability is the SRE formula over the current window; t.mu must be
// held.
func (t *Throttle) probability() float64 {
	r := t.sum.requests
	if r == 0 || r < t.minRequests {
		return 0
	}
	return max(0, (float64(r)-t.k*float64(t.sum.accepts))/float64(r+1))
}

// add counts c in the current bucket; t.mu must be held.
func (t *Throttle) add(c counts) {
	b := &t.buckets[t.cur]
	b.requests += c.requests
	b.accepts += c.accepts
	t.sum.requests += c.requests
	t.sum.accepts += c.accepts
}

// advance drops the buckets that left the window; t.mu must be held. The
// clock is read under the mutex (it is not user code) so that concurrent
// calls see time move forward in the order they hold the lock. A clock that
// moved backwards leaves the window as it is.
func (t *Throttle) advance() {
	idx := t.index(t.now())
	steps := idx - t.epoch
	if steps <= 0 {
		return
	}
	t.epoch = idx
	steps = min(steps, int64(len(t.buckets)))
	for ; steps > 0; steps-- {
		t.cur = (t.cur + 1) % len(t.buckets)
		old := &t.buckets[t.cur]
		t.sum.requests -= old.requests
		t.sum.accepts -= old.accepts
		*old = counts{}
	}
}

func (t *Throttle) index(at time.Time) int64 { return at.UnixNano() / int64(t.width) }

func (t *Throttle) now() time.Time {
	if t.clock == nil {
		return time.Now()
	}
	return t.clock.Now()
}
