package sim

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
)

// Chance is a probability in basis points: 0 (never) to 10000 (always).
// Integers keep the simulator free of floating point like the rest of the
// payments tree, and 0.01% is fine enough for fault injection. The zero
// value is Never.
type Chance int

// Bounds of a Chance.
const (
	Never  Chance = 0
	Always Chance = 10000
)

// Percent returns p percent as a Chance (Percent(5) is 500 basis points).
func Percent(p int) Chance { return Chance(p * 100) }

// Latency is an injected delay: Fixed plus a uniformly random duration in
// [0, Jitter]. The zero value adds no delay.
type Latency struct {
	Fixed, Jitter time.Duration
}

// WindowKind says what a scheduled [Window] does. The zero value is no kind
// and is refused.
type WindowKind uint8

// The kinds of windows.
const (
	// Outage answers every request with Status (default 503) and a
	// Retry-After until the window's end, without reaching the service.
	Outage WindowKind = iota + 1
	// Slowdown adds Extra to every request's latency.
	Slowdown
)

// Window is a scheduled fault, active from Start (inclusive) to End
// (exclusive), both offsets from the injector's epoch ([Injector.Epoch]).
// The zero value is refused (it has no Kind). It is plain data.
type Window struct {
	Kind       WindowKind
	Start, End time.Duration
	Status     int           // Outage: the status to answer; 0 means 503
	Extra      time.Duration // Slowdown: latency added
}

// LostReplyMode says how a lost reply shows to the client. The zero value
// is Reply502.
type LostReplyMode uint8

// The lost-reply modes.
const (
	// Reply502 answers 502 Bad Gateway, as a proxy whose upstream reply was
	// lost would. The default.
	Reply502 LostReplyMode = iota
	// CloseConnection closes the connection without a reply (the client
	// sees a transport error). Falls back to Reply502 when the
	// ResponseWriter cannot be hijacked.
	CloseConnection
)

// Faults is the set of faults an [Injector] applies. The zero value injects
// nothing. Faults is plain data; [Injector.Set] copies it.
type Faults struct {
	// ErrorRate is the chance that a request is answered ErrorStatus
	// without reaching the service.
	ErrorRate Chance
	// ErrorStatus is the status of injected errors; 0 means 503.
	ErrorStatus int
	// RetryAfter is sent as a Retry-After header with injected 429 and 503
	// errors; 0 sends none. (Outages send the time left in the window.)
	RetryAfter time.Duration
	// LostReplyRate is the chance that a request is processed — committed —
	// and its reply then lost, as LostReply says.
	LostReplyRate Chance
	LostReply     LostReplyMode
	// Latency delays every request before it reaches the service. A
	// request whose context ends while delayed is dropped unprocessed.
	Latency Latency
	// Windows are scheduled outages and slowdowns.
	Windows []Window
}

func (f Faults) validate() error {
	if err := checkChance("Faults", "ErrorRate", f.ErrorRate); err != nil {
		return err
	}
	if err := checkChance("Faults", "LostReplyRate", f.LostReplyRate); err != nil {
		return err
	}
	if f.ErrorStatus != 0 && (f.ErrorStatus < 400 || f.ErrorStatus > 599) {
		return configError("Faults", "ErrorStatus", "must be 0 or in [400, 599]", f.ErrorStatus)
	}
	for _, d := range []struct {
		field string
		d     time.Duration
	}{{"RetryAfter", f.RetryAfter}, {"Latency.Fixed", f.Latency.Fixed}, {"Latency.Jitter", f.Latency.Jitter}} {
		if d.d < 0 {
			return configError("Faults", d.field, "must not be negative", d.d)
		}
	}
	for i, w := range f.Windows {
		if err := w.validate(fmt.Sprintf("Windows[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

func (w Window) validate(field string) error {
	switch {
	case w.Kind != Outage && w.Kind != Slowdown:
		return configError("Faults", field+".Kind", "must be Outage or Slowdown", w.Kind)
	case w.End <= w.Start:
		return configError("Faults", field+".End", "must be after Start", w.End)
	case w.Extra < 0:
		return configError("Faults", field+".Extra", "must not be negative", w.Extra)
	case w.Status != 0 && (w.Status < 400 || w.Status > 599):
		return configError("Faults", field+".Status", "must be 0 or in [400, 599]", w.Status)
	}
	return nil
}

// checkChance refuses a Chance outside [Never, Always].
func checkChance(typ, field string, c Chance) error {
	if c < Never || c > Always {
		return configError(typ, field, "must be in [0, 10000] basis points", int(c))
	}
	return nil
}

// configError is the error of every refused setting of this package:
// typ is the struct the field belongs to ("Faults", "LogFaults").
func configError(typ, field, rule string, value any) error {
	return &resilience.ConfigError{Component: "sim", Field: typ + "." + field, Rule: rule, Value: value}
}

// InjectorConfig configures an [Injector]. The zero value is ready to use.
type InjectorConfig struct {
	// Clock times latency and windows; nil means the real clock.
	Clock clock.Clock
	// Seed seeds the random choices when Source is nil, so that a run can
	// be replayed.
	Seed uint64
	// Source, when set, supplies the random choices instead of a generator
	// seeded from Seed: a deterministic simulation derives every
	// component's source from one master seed. The injector draws from it
	// under its lock only, so it must not be used elsewhere at the same time
	// unless it is safe for concurrent use.
	Source rand.Source
	// Faults are the initial faults; see [Injector.Set].
	Faults Faults
}

// InjectorStats counts what an [Injector] did: a copy taken under the
// injector's lock. It is plain data.
type InjectorStats struct {
	Requests    int // requests received, whatever became of them
	Errors      int // answered with an injected error
	Outages     int // refused by an outage window
	Delayed     int // delayed by latency or a slowdown
	Cancelled   int // dropped because the request's context ended while delayed
	LostReplies int // processed, then the reply lost
	Passed      int // reached the service (including lost replies)
}

// Injector is HTTP middleware that injects faults in front of a service.
// Its faults can be replaced at any time with [Injector.Set], from any
// goroutine; a request uses the faults current when it arrived.
//
// Build it with [NewInjector]; it is safe for concurrent use.
type Injector struct {
	clock clock.Clock
	epoch time.Time

	mu     sync.Mutex // protects faults, rng and stats
	faults Faults
	rng    *rand.Rand
	stats  InjectorStats
}

// NewInjector returns an injector whose epoch (the zero of window offsets)
// is the clock's current time. It refuses invalid initial faults with a
// *resilience.ConfigError.
func NewInjector(cfg InjectorConfig) (*Injector, error) {
	if err := cfg.Faults.validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New()
	}
	return &Injector{clock: cfg.Clock, epoch: cfg.Clock.Now(), faults: cloneFaults(cfg.Faults),
		rng: newRand(cfg.Seed, cfg.Source)}, nil
}

// newRand returns a generator over src, or over a PCG seeded from seed.
func newRand(seed uint64, src rand.Source) *rand.Rand {
	if src == nil {
		src = rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	}
	return rand.New(src)
}

// Set replaces the faults; invalid ones are refused (with a
// *resilience.ConfigError) and the old kept.
func (i *Injector) Set(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	f = cloneFaults(f)
	i.mu.Lock()
	i.faults = f
	i.mu.Unlock()
	return nil
}

// Faults returns a copy of the current faults.
func (i *Injector) Faults() Faults {
	i.mu.Lock()
	defer i.mu.Unlock()
	return cloneFaults(i.faults)
}

// Epoch returns the time window offsets count from.
func (i *Injector) Epoch() time.Time { return i.epoch }

// Stats returns a copy of the counters.
func (i *Injector) Stats() InjectorStats {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.stats
}

func cloneFaults(f Faults) Faults {
	f.Windows = append([]Window(nil), f.Windows...)
	return f
}

// decision is what the injector does to one request.
type decision struct {
	status     int           // refuse with this status; 0 lets the request through
	code       string        // error code of the refusal
	retryAfter time.Duration // Retry-After of the refusal
	delay      time.Duration
	lose       bool
	mode       LostReplyMode
}

// decide draws the fate of one request under the lock; the delay and the
// reply happen after it is released.
func (i *Injector) decide() decision {
	now := i.clock.Now()
	at := now.Sub(i.epoch)
	i.mu.Lock()
	defer i.mu.Unlock()
	i.stats.Requests++
	f := &i.faults
	var d decision
	for _, w := range f.Windows {
		if at < w.Start || at >= w.End {
			continue
		}
		switch w.Kind {
		case Outage:
			if d.status == 0 || w.End-at > d.retryAfter {
				d.status, d.code, d.retryAfter = orDefault(w.Status), "unavailable", w.End-at
			}
		case Slowdown:
			d.delay += w.Extra
		}
	}
	if d.status != 0 {
		i.stats.Outages++
		return d
	}
	if i.hit(f.ErrorRate) {
		i.stats.Errors++
		return decision{status: orDefault(f.ErrorStatus), code: "injected", retryAfter: f.RetryAfter}
	}
	d.delay += f.Latency.Fixed
	if f.Latency.Jitter > 0 {
		d.delay += time.Duration(i.rng.Int64N(int64(f.Latency.Jitter) + 1))
	}
	if d.delay > 0 {
		i.stats.Delayed++
	}
	d.lose, d.mode = i.hit(f.LostReplyRate), f.LostReply
	return d
}

// hit draws one event of chance c. It runs under i.mu (rng is not safe for
// concurrent use).
func (i *Injector) hit(c Chance) bool { return hit(i.rng, c) }

// hit draws one event of chance c from rng; Never and Always draw nothing,
// so that setting them does not shift the sequence of later draws.
func hit(rng *rand.Rand, c Chance) bool {
	return c > Never && (c >= Always || Chance(rng.IntN(int(Always))) < c)
}

func (i *Injector) count(field *int) {
	i.mu.Lock()
	*field++
	i.mu.Unlock()
}

func orDefault(status int) int {
	if status == 0 {
		return http.StatusServiceUnavailable
	}
	return status
}
