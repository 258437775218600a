package ratelimit

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
)

// Config configures a [Limiter] built by [NewWithConfig]. It is a plain
// value; its zero value is incomplete only in Rate, which is required.
type Config struct {
	// Rate is the sustained rate; required (the zero Rate is refused).
	Rate Rate
	// Burst is how many events may be admitted at once from a full bucket.
	// Zero means 1, as in [New]; negative values are refused.
	Burst int
	// MaxWait is how long a call through [Limiter.Guard] may wait for its
	// token. Zero means it is refused at once when no token is free; a
	// positive MaxWait lets it wait that long (and never past its
	// context's deadline). Negative values are refused.
	MaxWait time.Duration
	// Name identifies the limiter in rejections, events and snapshots.
	Name string
	// Clock supplies time; nil means the real clock.
	Clock clock.Clock
	// Listeners receive an EventLimitChange for each SetRate and SetBurst,
	// and an EventRejection for each call [Limiter.Guard] refuses (only
	// when a listener subscribes to rejections).
	Listeners resilience.Listeners
}

// Limiter admits events at a sustained rate with bursts, by the generic cell
// rate algorithm (GCRA): the whole state is one "theoretical arrival time"
// (TAT), the instant at which the bucket would be full again. Admitting n
// events at now moves TAT to max(TAT, now) + n×interval, and is allowed when
// the result is at most now + burst×interval. It is a token bucket in
// disguise: the tokens available are (now + burst×interval − max(TAT,
// now)) / interval.
//
// Time is an int64 count of nanoseconds since the limiter's creation and the
// rate an integer interval, so there is no float and no drift; times more
// than about 36 years from the creation are clamped. There is no background
// goroutine: everything is computed from the clock when asked.
//
// A Limiter is a [resilience.Guard]: it goes into a pipeline of any result
// type as it is.
//
// A Limiter must be built with [New] or [NewWithConfig]; the zero value is
// not usable. It is safe for concurrent use; Allow, Reserve, Wait and Guard
// are lock-free.
type Limiter struct {
	// cur holds the parameters and TAT of the current generation. SetRate
	// and SetBurst replace it; the hot path only loads it. Nothing on this
	// cache line is written after construction, so loading cur and reading
	// tb stay cache hits on every CPU.
	cur atomic.Pointer[gcra]

	tb      timebase
	clk     clock.Clock // tb.clk
	name    string
	maxWait time.Duration
	events  *resilience.Dispatcher

	mu sync.Mutex // serialises SetRate and SetBurst (writers of cur)

	// rejected counts the refusals of Guard, Wait and WaitN, for metrics.
	// Allow and AllowN do not count: their callers see every answer. It is
	// padded onto a line of its own: under overload every refusal writes
	// it, and that must not evict maxWait and events, which every Guard
	// call reads.
	_        [cacheLine]byte
	rejected atomic.Uint64
	_        [cacheLine - 8]byte
}

// gcra is one generation of a limiter: immutable parameters plus the TAT
// they apply to. Keeping both behind one pointer means a decision can never
// combine the parameters of one generation with the TAT of another.
//
// The TAT is the only word admissions write, and under parallel load every
// admission moves its cache line to its own CPU. The padding keeps that
// line free of anything else: the parameters stay shared, clean, in every
// CPU's cache, and no neighbouring heap object is dragged along.
type gcra struct {
	rate     Rate
	burst    int64
	interval int64 // 0 when rate is Inf
	tau      int64 // burst × interval

	_   [cacheLine]byte
	tat atomic.Int64 // ns since epoch; frozen once retired
	_   [cacheLine - 8]byte
}

// cacheLine is the coherence unit the padding above is sized for (64 bytes
// on most amd64 and arm64 CPUs). Padding a full line on both sides of a
// word keeps any other field off its line whatever the allocation's
// alignment.
const cacheLine = 64

// frozen marks the TAT of a retired generation. A retired TAT never changes
// again, so a CAS against it fails for good and the caller reloads cur.
const frozen = math.MinInt64

// New returns a limiter admitting rate events per unit of time with bursts
// of up to burst, starting full. A burst of 0 means 1, as in [Config]; a
// negative burst or an invalid rate is refused with a
// *[resilience.ConfigError].
func New(rate Rate, burst int) (*Limiter, error) {
	return NewWithConfig(Config{Rate: rate, Burst: burst})
}

// NewWithConfig returns a limiter configured by cfg, starting full. It
// refuses a bad configuration with a *[resilience.ConfigError].
func NewWithConfig(cfg Config) (*Limiter, error) {
	if cfg.Burst == 0 {
		cfg.Burst = 1
	}
	if err := validateLimits(cfg.Name, cfg.Rate, cfg.Burst); err != nil {
		return nil, err
	}
	if cfg.MaxWait < 0 {
		return nil, configError(cfg.Name, "MaxWait", "must not be negative", cfg.MaxWait)
	}
	tb := newTimebase(cfg.Clock)
	l := &Limiter{
		tb:      tb,
		clk:     tb.clk,
		name:    cfg.Name,
		maxWait: cfg.MaxWait,
		events:  resilience.NewDispatcher(cfg.Listeners),
	}
	l.cur.Store(newGCRA(cfg.Rate, cfg.Burst, -maxSpan)) // full: TAT ≤ any now
	return l, nil
}

func newGCRA(r Rate, burst int, tat int64) *gcra {
	g := &gcra{rate: r, burst: int64(burst)}
	if !r.inf {
		g.interval = int64(r.Interval())
		g.tau = g.burst * g.interval
	}
	g.tat.Store(tat)
	return g
}

// Name returns the limiter's name.
func (l *Limiter) Name() string { return l.name }

// Allow reports whether one event may happen now, and consumes it if so.
func (l *Limiter) Allow() bool {
	_, _, _, ok := l.step(l.tb.now(), 1, 0)
	return ok
}

// AllowN reports whether n events may happen now, and consumes them if so.
// It returns false for n greater than the burst (never admissible, except
// at rate Inf) and true for n ≤ 0.
func (l *Limiter) AllowN(n int) bool {
	if n <= 0 {
		return true
	}
	_, _, _, ok := l.step(l.tb.now(), int64(n), 0)
	return ok
}

// AllowNAt is AllowN at time t instead of the clock's now. Times before the
// previous call's are accepted and simply refill nothing.
func (l *Limiter) AllowNAt(t time.Time, n int) bool {
	if n <= 0 {
		return true
	}
	_, _, _, ok := l.step(l.tb.at(t), int64(n), 0)
	return ok
}

// decision is the result of take.
type decision struct {
	g           *gcra
	ok          bool  // admitted (possibly after delay)
	tooBig      bool  // n exceeds the burst
	delay       int64 // ns from now until the events may happen
	base, after int64 // TAT ranges over [base, after) for this admission
}

// take is step for the callers that need the whole decision: reservations
// and waits, which may give the tokens back.
func (l *Limiter) take(now, n, maxDelay int64) decision {
	g, old, delay, ok := l.step(now, n, maxDelay)
	d := decision{g: g, ok: ok, delay: delay}
	switch {
	case g.interval == 0:
	case n > g.burst:
		d.tooBig = true
	case ok:
		d.base = max(old, now)
		d.after = d.base + n*g.interval
	}
	return d
}

// step admits n events at now if they can happen within maxDelay ns, and
// reports the delay either way, with the generation it decided in and the
// TAT it moved (old). It returns plain values, not a struct, so that Allow
// keeps everything in registers.
//
// The invariant everything rests on: an admission is granted only by a
// successful CAS from the very TAT value its decision was computed from.
// A decision is a pure function of (g's parameters, that TAT old, now), so
// every successful CAS is exactly the sequential GCRA step applied to the
// current state, in CAS order; a failed CAS means someone else's step came
// first, and the loop recomputes from the fresh value (with the same now:
// the clock is read once per call). No admission is ever granted from a
// stale TAT, hence the limiter never admits more than the sequential
// algorithm would for the same order of calls. Parameters cannot change
// under a decision: g is immutable apart from its TAT, and a generation
// retired by SetRate has its TAT frozen first, so a late CAS on it fails
// and retries on the new generation.
//
// Why this shape: an admission costs one clock read, one load and one
// CAS; a refusal one clock read and one load, and writes nothing, so
// refusals under overload scale across CPUs. Fetching the TAT's line for
// writing up front (a locked add of 0 instead of the load) would save a
// coherence round trip per contended admission, but it measured slower on
// the benchmark machine, serial and parallel, and it would make every
// refusal a write.
func (l *Limiter) step(now, n, maxDelay int64) (g *gcra, old, delay int64, ok bool) {
	for {
		g = l.cur.Load()
		if g.interval == 0 {
			return g, 0, 0, true
		}
		if n > g.burst {
			return g, 0, 0, false
		}
		old = g.tat.Load()
		if old == frozen {
			l.awaitWriter()
			continue
		}
		after := max(old, now) + n*g.interval
		delay = max(after-g.tau-now, 0)
		if delay > maxDelay {
			return g, old, delay, false
		}
		if g.tat.CompareAndSwap(old, after) {
			return g, old, delay, true
		}
	}
}

// awaitWriter blocks until the SetRate or SetBurst that froze the current
// generation has published the next one (it holds mu throughout).
func (l *Limiter) awaitWriter() {
	l.mu.Lock()
	//lint:ignore SA2001 the empty critical section is the wait itself
	l.mu.Unlock()
}
