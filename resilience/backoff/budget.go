package backoff

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
)

// Defaults of [BudgetConfig], after Finagle's retry budget.
const (
	DefaultBudgetRatio   = 0.2
	DefaultMinPerSecond  = 10.0
	DefaultBudgetWindow  = 10 * time.Second
	DefaultBudgetBuckets = 10
)

// BudgetConfig configures [NewBudget]. Its zero value means the defaults:
// 20% of recent requests plus 10 retries per second, over 10s in 10
// buckets, on the real clock.
type BudgetConfig struct {
	// Ratio is the share of recent requests that may be retried, in
	// [0, 1]. Zero means DefaultBudgetRatio; a budget of the floor alone is
	// not expressible (use a very small ratio such as 1e-9).
	Ratio float64
	// MinPerSecond is the floor: retries per second allowed on top of the
	// ratio, so that a quiet client can still retry. Zero means
	// DefaultMinPerSecond; negative is refused.
	MinPerSecond float64
	// Window is how far back "recent" reaches. Zero means
	// DefaultBudgetWindow.
	Window time.Duration
	// Buckets is how many slices the window moves by. Zero means
	// DefaultBudgetBuckets; Window/Buckets must be at least 1ms.
	Buckets int
	// Clock places requests and retries in time. Nil means the real clock.
	Clock clock.Clock
}

// Budget caps retries across every [Retry] that shares it: a retry is
// granted only if, counting it, over the last Window
//
//	retries ≤ Ratio × requests + MinPerSecond × Window/1s
//
// so that when a dependency fails, clients add at most that share of extra
// load instead of multiplying it by their attempts. Requests and retries
// are counted in Buckets slices of the window, aligned on the clock (on
// the budget's creation with the real clock); the
// oldest slice drops out as time moves, with no background goroutine. The
// bound holds when each retry is granted; later, requests may leave the
// window before the retries they allowed, which only makes the budget
// stricter until those retries leave too.
//
// The zero value is a budget with the defaults and the real clock. A Budget
// must not be copied after first use. It is safe for concurrent use: one
// mutex guards the counters, held for a few additions per call.
type Budget struct {
	cfg     BudgetConfig
	width   time.Duration // of one bucket
	reserve float64       // MinPerSecond × Window in seconds

	// start is the real clock's time zero when Clock is nil: the budget
	// then reads only the monotonic clock (time.Since), about half the
	// cost of time.Now, and its buckets are aligned on start.
	start time.Time

	mu      sync.Mutex // protects everything below
	buckets []budgetBucket
	epoch   int64 // absolute index (now / width) of the current bucket
	cur     int   // position of the current bucket in buckets
	sum     budgetBucket
}

type budgetBucket struct{ requests, retries, refusals int64 }

// NewBudget returns a budget, or a [*resilience.ConfigError] naming the
// first field that breaks its rule: Ratio in [0, 1], MinPerSecond finite
// and not negative, Window and Buckets not negative, Buckets at most
// 65536, and buckets at least 1ms wide.
func NewBudget(cfg BudgetConfig) (*Budget, error) {
	switch {
	case !(cfg.Ratio >= 0 && cfg.Ratio <= 1):
		return nil, configError("", "Ratio", "must be in [0, 1]", cfg.Ratio)
	case !(cfg.MinPerSecond >= 0) || math.IsInf(cfg.MinPerSecond, 1):
		return nil, configError("", "MinPerSecond", "must be finite and not negative", cfg.MinPerSecond)
	case cfg.Window < 0:
		return nil, configError("", "Window", "must not be negative", cfg.Window)
	case cfg.Buckets < 0:
		return nil, configError("", "Buckets", "must not be negative", cfg.Buckets)
	case cfg.Buckets > maxBudgetBuckets:
		return nil, configError("", "Buckets", "must be at most "+strconv.Itoa(maxBudgetBuckets), cfg.Buckets)
	}
	// Check the bucket width before init allocates the buckets.
	window, buckets := cfg.Window, cfg.Buckets
	if window == 0 {
		window = DefaultBudgetWindow
	}
	if buckets == 0 {
		buckets = DefaultBudgetBuckets
	}
	if width := window / time.Duration(buckets); width < time.Millisecond {
		return nil, configError("", "Window/Buckets", "must be at least 1ms", width)
	}
	b := &Budget{cfg: cfg}
	b.init()
	return b, nil
}

// maxBudgetBuckets bounds a budget's buckets, which it allocates up front.
const maxBudgetBuckets = 1 << 16

// init applies the defaults; the zero Budget runs it on first use.
func (b *Budget) init() {
	c := &b.cfg
	if c.Ratio == 0 {
		c.Ratio = DefaultBudgetRatio
	}
	if c.MinPerSecond == 0 {
		c.MinPerSecond = DefaultMinPerSecond
	}
	if c.Window == 0 {
		c.Window = DefaultBudgetWindow
	}
	if c.Buckets == 0 {
		c.Buckets = DefaultBudgetBuckets
	}
	if c.Clock == nil {
		b.start = time.Now()
	}
	b.width = c.Window / time.Duration(c.Buckets)
	b.reserve = c.MinPerSecond * c.Window.Seconds()
	b.buckets = make([]budgetBucket, c.Buckets)
	b.epoch = b.index()
}

// index returns the absolute number of the bucket the clock is in.
func (b *Budget) index() int64 {
	if b.cfg.Clock == nil {
		return int64(time.Since(b.start)) / int64(b.width)
	}
	return b.cfg.Clock.Now().UnixNano() / int64(b.width)
}

// Spender returns a view of b that grants retries from it but counts no
// calls. Give it to a policy that runs inside a [Retry] counting its calls
// to b, such as a hedger sharing the retry's budget: both counting would
// count each call twice (and each retry's attempt once more), loosening
// the bound to twice Ratio.
func (b *Budget) Spender() BudgetSpender { return BudgetSpender{b} }

// BudgetSpender is the view of a [Budget] that [Budget.Spender] returns: its
// AllowRetry is the budget's, its Request does nothing. The zero value
// grants no retry. It is safe for concurrent use.
type BudgetSpender struct{ b *Budget }

// Request does nothing: the call is counted by whoever shares the budget.
func (BudgetSpender) Request() {}

// AllowRetry asks the budget for one retry, as [Budget.AllowRetry] does.
func (s BudgetSpender) AllowRetry() bool { return s.b != nil && s.b.AllowRetry() }

// Request counts one call (a first attempt) toward the budget.
func (b *Budget) Request() {
	b.mu.Lock()
	b.advance()
	b.buckets[b.cur].requests++
	b.sum.requests++
	b.mu.Unlock()
}

// AllowRetry reports whether one more retry fits the budget, and counts it
// as a retry if so, as a refusal if not.
func (b *Budget) AllowRetry() bool {
	b.mu.Lock()
	b.advance()
	ok := b.available() >= 1
	if ok {
		b.buckets[b.cur].retries++
		b.sum.retries++
	} else {
		b.buckets[b.cur].refusals++
		b.sum.refusals++
	}
	b.mu.Unlock()
	return ok
}

// available is how many more retries fit; b.mu must be held.
func (b *Budget) available() int64 {
	allowed := min(b.cfg.Ratio*float64(b.sum.requests)+b.reserve, 1<<62)
	return int64(allowed) - b.sum.retries
}

// advance drops the buckets that left the window, first initialising a
// zero Budget; b.mu must be held. The clock is read under the mutex (it is
// not user code) so that concurrent calls see time move forward in the
// order they hold the lock. A clock that moved backwards leaves the window
// as it is.
func (b *Budget) advance() {
	if b.buckets == nil {
		b.init()
	}
	idx := b.index()
	steps := idx - b.epoch
	if steps <= 0 {
		return
	}
	b.epoch = idx
	steps = min(steps, int64(len(b.buckets)))
	for ; steps > 0; steps-- {
		b.cur = (b.cur + 1) % len(b.buckets)
		old := &b.buckets[b.cur]
		b.sum.requests -= old.requests
		b.sum.retries -= old.retries
		b.sum.refusals -= old.refusals
		*old = budgetBucket{}
	}
}
