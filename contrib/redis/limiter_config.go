package riprapredis

import (
	"fmt"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/redis/go-redis/v9"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// Limiter defaults applied to zero fields.
const (
	// DefaultCallTimeout bounds a limiter's round trip on the call path.
	DefaultCallTimeout = 100 * time.Millisecond
	// DefaultDownWait is how long a limiter decides locally after Redis
	// failed before it tries Redis again.
	DefaultDownWait = time.Second
)

// maxSpanMicros bounds burst × interval (about 12.7 days), so that every
// sum the script forms is an exact integer in a Lua number.
const maxSpanMicros = 1 << 40

// TimeSource says where a [Limiter]'s script takes the current time from.
// Its zero value is [ServerTime].
type TimeSource uint8

const (
	// ServerTime reads the Redis server's clock with TIME inside the
	// script: instances whose clocks disagree still share one timeline.
	// The default.
	ServerTime TimeSource = iota
	// CallerTime passes the caller's clock ([LimiterConfig].Clock) to the
	// script, for managed services that refuse TIME in scripts. Instances'
	// clocks must then agree: one running ahead by d admits up to d×rate
	// more than the fleet's share.
	CallerTime
)

// String returns "server" or "caller".
func (t TimeSource) String() string {
	if t == CallerTime {
		return "caller"
	}
	return "server"
}

// LimiterConfig describes a [Limiter]. It is a plain value, copied by
// [NewLimiter]. Client, Name and Rate are required; zero values elsewhere
// mean the documented defaults.
type LimiterConfig struct {
	// Client reaches Redis; required. Any go-redis client runs scripts.
	Client redis.Scripter
	// Name names the limit: instances with the same Name (and Prefix)
	// share one bucket. Required.
	Name string
	// Rate is the fleet's sustained rate; required. ratelimit.Inf admits
	// everything without asking Redis.
	Rate ratelimit.Rate
	// Burst is how many calls the fleet may make at once from a full
	// bucket; 0 means 1.
	Burst int

	// Lease, when 2 or more, takes up to that many tokens per round trip
	// and spends them locally: a leased mode for hot paths. 0 or 1: one
	// script per decision. It must not exceed Burst.
	Lease int
	// LeaseTTL is how long leased tokens may be spent before they are
	// dropped; default Lease × the rate's interval, the time the fleet
	// takes to earn a lease. A token is spent at most LeaseTTL after the
	// fleet granted it, so over any window w the fleet admits at most
	// rate × (w + LeaseTTL) + Burst; with the default that is Lease more
	// than the bound of one script per decision.
	LeaseTTL time.Duration

	// Time says where the script reads the time; default [ServerTime].
	Time TimeSource
	// Clock is the local clock: lease expiry, cached refusals, and the
	// time passed to the script under [CallerTime]. Nil: the real clock.
	Clock clock.Clock
	// Timeout bounds each round trip; default 100ms. It is the context
	// deadline of the command, which go-redis honours when the client's
	// Options.ContextTimeoutEnabled is set; otherwise the client's own
	// ReadTimeout and WriteTimeout bound it. The caller's own context does
	// not cut a round trip short: an impatient caller must not count as a
	// Redis failure, nor waste a lease that others are waiting for.
	Timeout time.Duration
	// DownWait is how long, after a failed round trip, decisions are made
	// without Redis before it is tried again; default 1s. So a Redis that
	// is down costs one timeout per DownWait, not one per call.
	DownWait time.Duration

	// Local decides while Redis cannot be reached, typically with the
	// fleet's rate divided by the number of instances. Nil: every call is
	// admitted (fail open), unless FailClosed.
	Local *ratelimit.Limiter
	// FailClosed refuses every call while Redis cannot be reached, with a
	// rejection matching [ErrUnavailable]. It may not be combined with
	// Local.
	FailClosed bool

	// Prefix starts the key's name; default "riprap:".
	Prefix string
	// Listeners receive an [resilience.EventRejection] for each refusal
	// (only when one subscribes to rejections).
	Listeners resilience.Listeners
}

// limiterSettings is a validated LimiterConfig with defaults applied.
type limiterSettings struct {
	name, key  string
	rate       ratelimit.Rate
	inf        bool
	burst      int64
	intervalUS int64
	lease      int64
	leaseTTL   time.Duration
	serverTime bool
	timeout    time.Duration
	downWait   time.Duration
	failClosed bool
	clk        clock.Clock
}

func (c *LimiterConfig) settings() (limiterSettings, error) {
	n := c.Name
	var s limiterSettings
	switch {
	case c.Client == nil:
		return s, configError(n, "Client", "must not be nil", nil)
	case n == "":
		return s, configError(n, "Name", "must not be empty", n)
	case !c.Rate.IsInf() && c.Rate.Interval() <= 0:
		return s, configError(n, "Rate", "must be positive or ratelimit.Inf", c.Rate)
	case c.Burst < 0:
		return s, configError(n, "Burst", "must not be negative", c.Burst)
	case c.Lease < 0:
		return s, configError(n, "Lease", "must not be negative", c.Lease)
	case c.Lease > max(c.Burst, 1):
		return s, configError(n, "Lease", fmt.Sprintf("must be at most Burst (%d)", max(c.Burst, 1)), c.Lease)
	case c.Time > CallerTime:
		return s, configError(n, "Time", "must be ServerTime or CallerTime", int(c.Time))
	case c.Local != nil && c.FailClosed:
		return s, configError(n, "FailClosed", "must be false when Local is set", c.FailClosed)
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"LeaseTTL", c.LeaseTTL}, {"Timeout", c.Timeout}, {"DownWait", c.DownWait}} {
		if d.v < 0 {
			return s, configError(n, d.field, "must not be negative", d.v)
		}
	}
	s = limiterSettings{
		name: n, key: orDefault(c.Prefix, DefaultPrefix) + "rate:{" + n + "}",
		rate: c.Rate, inf: c.Rate.IsInf(), burst: int64(max(c.Burst, 1)), lease: int64(max(c.Lease, 1)),
		serverTime: c.Time == ServerTime, timeout: orDefault(c.Timeout, DefaultCallTimeout),
		downWait: orDefault(c.DownWait, DefaultDownWait), failClosed: c.FailClosed, clk: c.Clock,
	}
	if s.clk == nil {
		s.clk = clock.New()
	}
	if s.inf {
		return s, nil
	}
	// Whole microseconds, rounded up: the fleet never gets more than asked.
	s.intervalUS = int64((c.Rate.Interval() + time.Microsecond - 1) / time.Microsecond)
	if s.burst > maxSpanMicros/s.intervalUS {
		return s, configError(n, "Burst", fmt.Sprintf("must be at most %d at rate %v", maxSpanMicros/s.intervalUS, c.Rate), c.Burst)
	}
	s.leaseTTL = orDefault(c.LeaseTTL, time.Duration(s.lease*s.intervalUS)*time.Microsecond)
	return s, nil
}
