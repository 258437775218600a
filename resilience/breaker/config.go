package breaker

import (
	"fmt"
	"math"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
)

// Defaults applied by [New] to zero fields of a [Config].
const (
	DefaultConsecutiveFailures = 5
	DefaultMinimumCalls        = 10
	DefaultWindowSize          = 100
	DefaultWindowBuckets       = 10
	DefaultSlowCallDuration    = time.Second
	DefaultOpenWait            = 5 * time.Second
	DefaultMaxOpenWait         = time.Minute
	DefaultMaxHalfOpen         = time.Minute
)

// maxWindowSize keeps a count bucket's counters within 32 bits.
const maxWindowSize = 1 << 30

// maxWindowBuckets bounds the buckets of a window: each counting phase
// allocates them.
const maxWindowBuckets = 1 << 16

// Config describes a [Breaker]. Its zero value is valid: a breaker named ""
// that opens after 5 consecutive failures, waits 5s, and closes after one
// successful probe. A Config is copied by [New]; changing it later has no
// effect on the breaker.
//
// # Trip rules
//
// Any combination of ConsecutiveFailures, FailureRate and SlowCallRate may
// be set; the breaker opens when one of them holds. When none is set,
// ConsecutiveFailures defaults to 5. Rules are evaluated when a failure or
// a slow call is recorded: a fast success never opens the breaker.
//
// # Window
//
// Rates are computed over the last WindowSize calls (count based, the
// default: 100) or over the last WindowDuration (time based, when set).
// Either way the window is kept in WindowBuckets buckets and advances a
// bucket at a time: a count window of 100 calls in 10 buckets holds between
// 91 and 100 calls, a time window of 10s in 10 buckets covers between 9s and
// 10s. The cost of a call is O(1). A count window of up to 64 calls a
// bucket keeps one bit per call (two under the slow-call rule), so the
// default window of 100 calls takes 16 bytes; a larger one keeps two
// counters per bucket, 16 bytes each; a time window 24 bytes per bucket.
//
// # Open wait
//
// The first opening waits OpenWait before a probe is admitted. When a
// half-open breaker opens again, the k-th consecutive re-opening waits
// OpenBackoff.Delay(k, previous wait) if OpenBackoff is set (jitter, if any,
// comes from the strategy; a result <= 0 means OpenWait), else OpenWait. A
// failure whose error carries a Retry-After ([resilience.RetryAfter])
// lengthens the wait to it, unless IgnoreRetryAfter is set. The result is
// capped at MaxOpenWait. The sequence restarts when the breaker closes.
//
// # Half-open
//
// At most MaxProbes calls are admitted at once; the breaker closes after
// SuccessesToClose successful probes and opens again on a failed one (or a
// slow one, when the slow-call rule is set). An ignored probe frees its
// slot. When MaxHalfOpen passes after the latest probe was admitted and a
// probe is still outstanding, the breaker opens again (a re-opening, so the
// wait grows), so probes that never report back cannot wedge it. With no
// probe outstanding — no call came, or every probe was ignored because its
// caller gave up — nothing has failed: the breaker stays half-open for as
// long as it idles, admits the next call as a probe, and the wait does not
// grow.
type Config struct {
	// Name identifies the breaker in rejections, events and a [Registry].
	Name string

	// ConsecutiveFailures opens the breaker after that many failures in a
	// row (0: rule off, unless no rule is set).
	ConsecutiveFailures int
	// FailureRate opens the breaker when failures/calls in the window reach
	// it, once the window holds MinimumCalls calls. In [0, 1]; 0: rule off.
	FailureRate float64
	// SlowCallRate opens the breaker when the share of calls that took at
	// least SlowCallDuration reaches it, once the window holds MinimumCalls
	// calls. In [0, 1]; 0: rule off. A slow failure counts as both.
	SlowCallRate float64
	// SlowCallDuration is the latency from which a call is slow; default 1s.
	// Only used with SlowCallRate.
	SlowCallDuration time.Duration
	// MinimumCalls is how many calls the window must hold before a rate
	// rule may open the breaker; default 10 (or WindowSize, if smaller).
	// Rules are judged when a failure or slow call is recorded, and a full
	// count window holds between WindowSize-WindowSize/WindowBuckets+1 and
	// WindowSize calls as its buckets roll over: a MinimumCalls above the
	// lower figure is reached only by failures that land just after a
	// bucket boundary, so keep it at or below that figure.
	MinimumCalls int

	// WindowSize is the length of a count window (default 100); it must be
	// a multiple of WindowBuckets. Set either WindowSize or WindowDuration,
	// not both.
	WindowSize int
	// WindowDuration is the length of a time window; 0 means a count window.
	WindowDuration time.Duration
	// WindowBuckets is how many buckets hold the window. Default: 10 for a
	// time window; for a count window the largest divisor of WindowSize
	// not above 10.
	WindowBuckets int

	// OpenWait is the wait before the first probe; default 5s.
	OpenWait time.Duration
	// OpenBackoff, if set, computes the wait of consecutive re-openings.
	// It is called under the breaker's lock and must not call back into it.
	OpenBackoff backoff.Strategy
	// MaxOpenWait caps every wait, Retry-After included; default 1 minute,
	// or OpenWait if longer.
	MaxOpenWait time.Duration
	// IgnoreRetryAfter stops a failing error's Retry-After from lengthening
	// the open wait.
	IgnoreRetryAfter bool

	// MaxProbes is how many half-open calls may be in flight; default 1,
	// at most 2147483647.
	MaxProbes int
	// SuccessesToClose is how many successful probes close the breaker;
	// default 1, at most 2147483647.
	SuccessesToClose int
	// MaxHalfOpen is how long a probe may stay outstanding, counted from
	// the latest probe's admission, before half-open gives up and opens
	// again; default 1 minute. An idle half-open breaker never gives up.
	MaxHalfOpen time.Duration

	// Classifier judges the error of a call through [Breaker.Guard] or
	// given to [Permit.DoneErr]; nil, or an answer of
	// [resilience.Unclassified], means [resilience.DefaultOutcome]: the
	// caller's own cancellation is ignored, while the caller's deadline
	// passing with the call in flight is a failure (the dependency did not
	// answer in the time it was given), so a hanging dependency opens the
	// breaker even with no timeout policy. A pipeline classifier's verdict
	// ([resilience.Judged]) comes first.
	Classifier resilience.ErrorClassifier
	// Clock is the source of time; nil means the real clock, read on a
	// faster path.
	Clock clock.Clock
	// CoarseClock, with the real clock (Clock nil), times closed-state
	// calls — the time window's buckets, the slow-call rule, the Duration
	// of outcome events — with a clock that all breakers share and a
	// runtime timer advances every [CoarseResolution], instead of reading
	// the monotonic clock at both ends of a call (about 25ns a read on a
	// virtual machine). Such times are late by up to one resolution, more
	// when the machine is so loaded that the timer fires late: a call near
	// a bucket boundary may count in the earlier bucket, and a duration may
	// be off by a millisecond or two, so keep SlowCallDuration well above
	// it. Transitions, open waits and half-open probes still read the
	// monotonic clock. The timer runs only while breakers read it and
	// stops after one idle tick. Ignored with an injected Clock, which is
	// what tests that need exact times should use: the coarse clock is
	// shared by the whole process, and a synctest bubble that starts it
	// takes its timer along when it ends, leaving it stopped.
	CoarseClock bool
	// Listeners receive the kinds of events they subscribe to: state
	// changes (each exactly once, in order, never under the breaker's
	// lock), rejections and outcomes (on the caller's goroutine, as they
	// happen). A call builds an event only for a kind somebody listens
	// to, so a listener made by [resilience.OnStateChange] costs a call
	// nothing.
	Listeners resilience.Listeners
}

// settings is a validated Config with defaults applied, in the units the
// breaker computes with.
type settings struct {
	consecutive      int64
	failureRate      float64
	slowRate         float64
	slowDur          int64
	minCalls         uint64
	countSize        uint64 // count window length; 0 for a time window
	perBucket        uint64 // count window: calls per bucket
	bucketWidth      int64  // time window: nanoseconds per bucket
	buckets          int
	openWait         time.Duration
	maxOpenWait      time.Duration
	strategy         backoff.Strategy
	useRetryAfter    bool
	maxProbes        int32
	successesToClose int32
	maxHalfOpen      int64
	layout           uint8 // how a window is kept: layoutBits, layoutBuckets or layoutTime
}

// refuse builds the error New returns for a field that breaks a rule.
func (c *Config) refuse(field, rule string, value any) error {
	return &resilience.ConfigError{Component: policyName, Name: c.Name, Field: field, Rule: rule, Value: value}
}

const (
	ruleNotNegative = "must not be negative"
	ruleRate        = "must be in [0, 1]" // 0 turns the rule off
	// ruleAtMostInt32: the half-open counts are 32-bit, keeping a phase in
	// one size class.
	ruleAtMostInt32 = "must be at most 2147483647"
)

func (c *Config) settings() (settings, error) {
	s := settings{strategy: c.OpenBackoff, useRetryAfter: !c.IgnoreRetryAfter}
	if err := c.rules(&s); err != nil {
		return s, err
	}
	if err := c.window(&s); err != nil {
		return s, err
	}
	if err := c.openWait(&s); err != nil {
		return s, err
	}
	return s, c.halfOpen(&s)
}

func (c *Config) rules(s *settings) error {
	switch {
	case c.ConsecutiveFailures < 0:
		return c.refuse("ConsecutiveFailures", ruleNotNegative, c.ConsecutiveFailures)
	case !rateOK(c.FailureRate):
		return c.refuse("FailureRate", ruleRate, c.FailureRate)
	case !rateOK(c.SlowCallRate):
		return c.refuse("SlowCallRate", ruleRate, c.SlowCallRate)
	case c.SlowCallDuration < 0:
		return c.refuse("SlowCallDuration", ruleNotNegative, c.SlowCallDuration)
	case c.MinimumCalls < 0:
		return c.refuse("MinimumCalls", ruleNotNegative, c.MinimumCalls)
	}
	s.consecutive = int64(c.ConsecutiveFailures)
	s.failureRate, s.slowRate = c.FailureRate, c.SlowCallRate
	if s.consecutive == 0 && s.failureRate == 0 && s.slowRate == 0 {
		s.consecutive = DefaultConsecutiveFailures
	}
	if s.slowRate > 0 {
		s.slowDur = int64(orDefault(c.SlowCallDuration, DefaultSlowCallDuration))
	}
	s.minCalls = uint64(orDefault(c.MinimumCalls, DefaultMinimumCalls))
	return nil
}

// rateOK accepts 0 (rule off) or a rate in (0,1]; NaN fails both tests.
func rateOK(r float64) bool { return r == 0 || (r > 0 && r <= 1) }

func (c *Config) window(s *settings) error {
	switch {
	case c.WindowSize < 0:
		return c.refuse("WindowSize", ruleNotNegative, c.WindowSize)
	case c.WindowSize > maxWindowSize:
		return c.refuse("WindowSize", fmt.Sprintf("must be at most %d", maxWindowSize), c.WindowSize)
	case c.WindowDuration < 0:
		return c.refuse("WindowDuration", ruleNotNegative, c.WindowDuration)
	case c.WindowBuckets < 0 || c.WindowBuckets > maxWindowBuckets:
		return c.refuse("WindowBuckets", fmt.Sprintf("must be in [0, %d]", maxWindowBuckets), c.WindowBuckets)
	case c.WindowSize > 0 && c.WindowDuration > 0:
		return c.refuse("WindowDuration", fmt.Sprintf("must be 0 when WindowSize is set (%d)", c.WindowSize), c.WindowDuration)
	}
	if c.WindowDuration > 0 {
		s.buckets = orDefault(c.WindowBuckets, DefaultWindowBuckets)
		s.layout = layoutTime
		s.bucketWidth = int64(c.WindowDuration) / int64(s.buckets)
		if s.bucketWidth == 0 {
			return c.refuse("WindowDuration", fmt.Sprintf("must be at least WindowBuckets (%d) nanoseconds", s.buckets), c.WindowDuration)
		}
		return nil
	}
	size := orDefault(c.WindowSize, DefaultWindowSize)
	s.buckets = c.WindowBuckets
	if s.buckets == 0 {
		s.buckets = largestDivisor(size, DefaultWindowBuckets)
	}
	if size%s.buckets != 0 {
		return c.refuse("WindowSize", fmt.Sprintf("must be a multiple of WindowBuckets (%d)", s.buckets), size)
	}
	s.countSize, s.perBucket = uint64(size), uint64(size/s.buckets)
	if s.perBucket > bitsPerBucketMax {
		s.layout = layoutBuckets
	}
	if c.MinimumCalls == 0 {
		s.minCalls = min(s.minCalls, s.countSize) // the default never exceeds a small window
	}
	if (s.failureRate > 0 || s.slowRate > 0) && s.minCalls > s.countSize {
		return c.refuse("MinimumCalls", fmt.Sprintf("must be at most WindowSize (%d)", size), c.MinimumCalls)
	}
	return nil
}

func largestDivisor(n, limit int) int {
	for d := min(n, limit); d > 1; d-- {
		if n%d == 0 {
			return d
		}
	}
	return 1
}

// maxWait keeps now+wait far from overflowing int64 nanoseconds.
const maxWait = time.Duration(math.MaxInt64 / 4)

func (c *Config) openWait(s *settings) error {
	switch {
	case c.OpenWait < 0:
		return c.refuse("OpenWait", ruleNotNegative, c.OpenWait)
	case c.MaxOpenWait < 0:
		return c.refuse("MaxOpenWait", ruleNotNegative, c.MaxOpenWait)
	}
	s.openWait = orDefault(c.OpenWait, DefaultOpenWait)
	s.maxOpenWait = orDefault(c.MaxOpenWait, max(DefaultMaxOpenWait, s.openWait))
	switch {
	case s.maxOpenWait < s.openWait:
		return c.refuse("MaxOpenWait", fmt.Sprintf("must be at least OpenWait (%v)", s.openWait), s.maxOpenWait)
	case s.maxOpenWait > maxWait:
		field := "MaxOpenWait"
		if c.MaxOpenWait == 0 {
			field = "OpenWait" // the default cap followed it
		}
		return c.refuse(field, "must be at most "+maxWait.String(), s.maxOpenWait)
	}
	return nil
}

func (c *Config) halfOpen(s *settings) error {
	switch {
	case c.MaxProbes < 0:
		return c.refuse("MaxProbes", ruleNotNegative, c.MaxProbes)
	case c.SuccessesToClose < 0:
		return c.refuse("SuccessesToClose", ruleNotNegative, c.SuccessesToClose)
	case c.MaxProbes > math.MaxInt32:
		return c.refuse("MaxProbes", ruleAtMostInt32, c.MaxProbes)
	case c.SuccessesToClose > math.MaxInt32:
		return c.refuse("SuccessesToClose", ruleAtMostInt32, c.SuccessesToClose)
	case c.MaxHalfOpen < 0:
		return c.refuse("MaxHalfOpen", ruleNotNegative, c.MaxHalfOpen)
	case c.MaxHalfOpen > maxWait:
		return c.refuse("MaxHalfOpen", "must be at most "+maxWait.String(), c.MaxHalfOpen)
	}
	s.maxProbes = int32(orDefault(c.MaxProbes, 1))
	s.successesToClose = int32(orDefault(c.SuccessesToClose, 1))
	s.maxHalfOpen = int64(orDefault(c.MaxHalfOpen, DefaultMaxHalfOpen))
	return nil
}

func orDefault[N int | time.Duration](v, def N) N {
	if v == 0 {
		return def
	}
	return v
}
