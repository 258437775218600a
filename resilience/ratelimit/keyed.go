package ratelimit

import (
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
)

// AtCapacity says what a [Keyed] limiter does with a new key when it tracks
// MaxKeys keys and none of them is idle. It never admits without limit.
// The zero value is RejectNewKeys.
type AtCapacity uint8

const (
	// RejectNewKeys refuses requests of new keys with an error matching
	// [ErrTooManyKeys] until a tracked key becomes idle. Known keys are
	// unaffected. This is the default.
	RejectNewKeys AtCapacity = iota
	// ShareOverflow limits every key that finds no room with one shared
	// bucket of the same rate and burst: the newcomers compete among
	// themselves, and known keys are unaffected.
	ShareOverflow
)

var atCapacityNames = [...]string{"reject_new_keys", "share_overflow"}

// String returns "reject_new_keys" or "share_overflow".
func (a AtCapacity) String() string {
	if int(a) < len(atCapacityNames) {
		return atCapacityNames[a]
	}
	return fmt.Sprintf("AtCapacity(%d)", uint8(a))
}

// MarshalText returns a's String form.
func (a AtCapacity) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads "reject_new_keys" or "share_overflow".
func (a *AtCapacity) UnmarshalText(text []byte) error {
	for i, name := range atCapacityNames {
		if string(text) == name {
			*a = AtCapacity(i)
			return nil
		}
	}
	return fmt.Errorf("ratelimit: AtCapacity %q: want reject_new_keys or share_overflow", text)
}

// KeyedConfig configures a [Keyed] limiter. It is a plain value; only Rate
// has no default.
type KeyedConfig struct {
	// Rate and Burst apply to each key separately; Rate is required, Burst
	// zero means 1 (as in [Config]), negative values are refused.
	Rate  Rate
	Burst int
	// MaxKeys bounds the keys tracked at once; zero means 65,536,
	// negative values are refused.
	MaxKeys int
	// AtCapacity is the policy when MaxKeys are tracked and none is idle.
	AtCapacity AtCapacity
	// Name identifies the limiter in rejections, events and snapshots.
	Name string
	// Clock supplies time; nil means the real clock.
	Clock clock.Clock
	// Listeners receive an EventRejection for each call refused by
	// [Keyed.Admit] or a [ByKey] guard (only when a listener subscribes to
	// rejections).
	Listeners resilience.Listeners
}

// Keyed limits each key (a merchant, a customer, a client IP) to its own
// rate and burst, with bounded memory.
//
// A key is idle once its bucket is full again; forgetting an idle key is
// exact, because a key seen for the first time starts with a full bucket.
// So idle keys are evicted lazily, least recently used first: each call
// looks at the oldest key of its shard and drops it if idle, and a new key
// that finds its shard full takes the place of an idle one. When no key is
// idle the [AtCapacity] policy decides. No background goroutine runs.
//
// Keys are spread over shards, each a mutex, a map and an LRU list, so
// unrelated keys rarely contend; a shared counter caps the total at
// MaxKeys exactly. At the cap a new key looks for an idle key to replace
// among the oldest of its own shard only; [Keyed.Sweep] frees idle keys
// everywhere.
//
// A Keyed limiter goes into a pipeline through [ByKey], or is asked
// directly with [Keyed.Admit] before a call.
//
// The zero value is not usable; build one with [NewKeyed]. It is safe for
// concurrent use.
type Keyed struct {
	interval, tau, burst int64 // interval 0: Inf
	rate                 Rate
	maxKeys              int
	atCap                AtCapacity
	name                 string
	tb                   timebase
	seed                 maphash.Seed
	shards               []keyShard
	events               *resilience.Dispatcher

	overflowMu  sync.Mutex // protects overflowTAT
	overflowTAT int64

	// count is the number of keys tracked over all shards. It changes only
	// on insertion (by CAS, never past maxKeys) and eviction, so a hit
	// touches nothing shared between shards.
	count                                 atomic.Int64
	limited, evicted, refused, overflowed atomic.Uint64
}

type keyShard struct {
	mu     sync.Mutex // protects keys, the list (oldest at tail) and last
	keys   map[string]*keyEntry
	newest *keyEntry
	oldest *keyEntry
	// last is the latest time the shard has acted at. Calls act at
	// max(their time, last), so that a key evicted as idle at a later time
	// cannot come back with a full bucket at an earlier one.
	last int64
	_    [64]byte // keep neighbouring shards' locks off one cache line
}

type keyEntry struct {
	key          string
	tat          int64
	newer, older *keyEntry
}

// NewKeyed returns a keyed limiter configured by cfg. It refuses a bad
// configuration with a *[resilience.ConfigError].
func NewKeyed(cfg KeyedConfig) (*Keyed, error) {
	if cfg.Burst == 0 {
		cfg.Burst = 1
	}
	if cfg.MaxKeys == 0 {
		cfg.MaxKeys = 1 << 16
	}
	switch err := validateLimits(cfg.Name, cfg.Rate, cfg.Burst); {
	case err != nil:
		return nil, err
	case cfg.MaxKeys < 1:
		return nil, configError(cfg.Name, "MaxKeys", "must not be negative", cfg.MaxKeys)
	case cfg.AtCapacity > ShareOverflow:
		return nil, configError(cfg.Name, "AtCapacity", "must be RejectNewKeys or ShareOverflow", cfg.AtCapacity)
	}
	k := &Keyed{
		rate: cfg.Rate, burst: int64(cfg.Burst), maxKeys: cfg.MaxKeys, atCap: cfg.AtCapacity, name: cfg.Name,
		tb: newTimebase(cfg.Clock), seed: maphash.MakeSeed(), overflowTAT: -maxSpan,
		events: resilience.NewDispatcher(cfg.Listeners),
	}
	if !cfg.Rate.inf {
		k.interval = int64(cfg.Rate.Interval())
		k.tau = k.burst * k.interval
	}
	// Small caps get one shard, so that at the cap a new key can find
	// any idle key; larger ones up to 32 shards.
	n := 1
	for n < 32 && cfg.MaxKeys/(2*n) >= 256 {
		n *= 2
	}
	k.shards = make([]keyShard, n)
	for i := range k.shards {
		k.shards[i].keys = make(map[string]*keyEntry)
		k.shards[i].last = -maxSpan
	}
	return k, nil
}

// Decision is the outcome of one [Keyed.Take], with what a client should be
// told about it; a plain value.
type Decision struct {
	Allowed bool
	// Limit is the burst: the most requests a key may make at once.
	Limit int
	// Remaining is how many more could be admitted right now.
	Remaining int
	// RetryAfter is, when not Allowed, how long until the request could be.
	RetryAfter time.Duration
	// Reset is how long until the key's bucket is full again.
	Reset time.Duration
}

// Allow is AllowN(key, 1).
func (k *Keyed) Allow(key string) bool { return k.AllowN(key, 1) }

// AllowN reports whether key may have n events now, and consumes them if
// so. It is false whenever [Keyed.Take] would not allow or would fail.
func (k *Keyed) AllowN(key string, n int) bool {
	d, err := k.take(k.tb.now(), key, n)
	return err == nil && d.Allowed
}

// Take decides whether key may have n events now; see [Keyed.TakeAt].
func (k *Keyed) Take(key string, n int) (Decision, error) { return k.take(k.tb.now(), key, n) }

// TakeAt decides whether key may have n events at time t, consuming them
// if allowed. The error is non-nil, and the decision not allowed, when n
// exceeds the burst ([ErrExceedsBurst]) or when key is new and the
// limiter is at capacity under RejectNewKeys (a rejection matching
// [ErrTooManyKeys]).
//
// n ≤ 0 is a peek: it consumes nothing, tracks no new key and moves no key
// in the eviction order, and reports the key's tokens (Remaining) and the
// time until its bucket is full (Reset) as they are at t. A key not
// tracked reports the bucket a request of it would get: full, or the
// shared overflow bucket at capacity under ShareOverflow, or, under
// RejectNewKeys at capacity, the [ErrTooManyKeys] rejection (not counted in
// the snapshot's Refused).
func (k *Keyed) TakeAt(t time.Time, key string, n int) (Decision, error) {
	return k.take(k.tb.at(t), key, n)
}

func (k *Keyed) take(now int64, key string, n int) (Decision, error) {
	d := Decision{Limit: int(k.burst), Remaining: int(k.burst)}
	switch {
	case int64(n) > k.burst:
		return d, fmt.Errorf("%w: n=%d with burst %d", ErrExceedsBurst, n, k.burst)
	case k.interval == 0:
		d.Allowed = true
		return d, nil
	case n <= 0:
		return k.peek(now, key)
	}
	sh := k.shard(key)
	sh.mu.Lock()
	now = max(now, sh.last)
	sh.last = now
	e, err := k.lookup(sh, key, now)
	if e != nil {
		d = k.decide(&e.tat, now, int64(n))
	}
	sh.mu.Unlock()
	if e == nil && err == nil { // shared overflow bucket
		k.overflowed.Add(1)
		k.overflowMu.Lock()
		d = k.decide(&k.overflowTAT, now, int64(n))
		k.overflowMu.Unlock()
	}
	if err == nil && !d.Allowed {
		k.limited.Add(1)
	}
	return d, err
}

func (k *Keyed) shard(key string) *keyShard {
	return &k.shards[maphash.String(k.seed, key)%uint64(len(k.shards))]
}

// peek reports key's bucket at now without changing anything.
func (k *Keyed) peek(now int64, key string) (Decision, error) {
	sh := k.shard(key)
	tat, overflow := int64(-maxSpan), false // an untracked key starts full
	sh.mu.Lock()
	now = max(now, sh.last)
	e := sh.keys[key]
	switch {
	case e != nil:
		tat = e.tat
	case k.roomFor(sh, now):
	case k.atCap == ShareOverflow:
		overflow = true
	default:
		sh.mu.Unlock()
		return Decision{Limit: int(k.burst)}, k.tooManyKeys()
	}
	sh.mu.Unlock()
	if overflow {
		k.overflowMu.Lock()
		tat = k.overflowTAT
		k.overflowMu.Unlock()
	}
	return k.decide(&tat, now, 0), nil // decide on a copy: nothing is stored
}

// decide is the GCRA step on one key's TAT (see [Limiter]); n = 0 reports
// the bucket as it is.
func (k *Keyed) decide(tat *int64, now, n int64) Decision {
	base := max(*tat, now)
	after := base + n*k.interval
	d := Decision{Limit: int(k.burst)}
	if after-now <= k.tau {
		*tat = after
		d.Allowed = true
		d.Remaining = int((k.tau - (after - now)) / k.interval)
		d.Reset = time.Duration(after - now)
		return d
	}
	d.Remaining = max(0, int((k.tau-(base-now))/k.interval))
	d.RetryAfter = time.Duration(after - k.tau - now)
	d.Reset = time.Duration(base - now)
	return d
}
