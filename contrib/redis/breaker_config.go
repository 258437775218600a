package riprapredis

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/redis/go-redis/v9"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// Defaults applied by [NewBreaker] and [NewLimiter] to zero fields.
const (
	DefaultPrefix         = "riprap:"
	DefaultQuorumWindow   = 10 * time.Second
	DefaultRepairInterval = 5 * time.Second
	DefaultTimeout        = time.Second
)

// keyGrace is how long a fleet key outlives the deadline it carries, so
// that a peer whose clock runs a little behind still reads it.
const keyGrace = time.Minute

// BreakerConfig describes a [Breaker]: a local breaker and how it shares
// its openings with the fleet. It is a plain value, copied by [NewBreaker].
// Only Client and Breaker.Name are required; zero values elsewhere mean
// the documented defaults.
type BreakerConfig struct {
	// Client reaches Redis; required. A *redis.Client, *redis.ClusterClient
	// or *redis.Ring will do; it must support scripts and pub/sub.
	Client redis.UniversalClient
	// Breaker configures the local breaker, built by [NewBreaker]. Its Name
	// is required and names the fleet: instances whose breakers share a
	// Name (and a Prefix) share their openings. Its Clock is used for every
	// time the fleet logic reads; its Listeners hear the local breaker,
	// holds for the fleet included.
	Breaker breaker.Config
	// Instance identifies this process in the fleet, in published reasons
	// and quorum counts; default hostname-pid-random. It must be unique in
	// the fleet and must not hold a newline. An instance never holds for
	// an opening published under its own name, so a process restarted
	// under a fixed name does not hold for its predecessor's opening.
	Instance string
	// Prefix starts every key and channel name; default "riprap:".
	Prefix string

	// Quorum is how many distinct instances must report a local opening
	// within QuorumWindow before the fleet opens. 0 or 1: the first opening
	// anywhere opens the fleet. Until the quorum is reached, an instance
	// that opened stays open on its own, and the others keep calling.
	Quorum int
	// QuorumWindow is how recent a report must be to count towards the
	// quorum; default 10s. Only used when Quorum is 2 or more.
	QuorumWindow time.Duration

	// ReleaseDelay keeps peers held this much longer than the published
	// deadline. The instance that opened the fleet goes half-open at the
	// deadline and probes first: if its probe fails it publishes again
	// before the peers let go, so a fleet sends about one probe per
	// opening instead of one per instance. Zero: peers go half-open at the
	// deadline, and each confirms recovery with its own probe.
	ReleaseDelay time.Duration
	// RepairInterval is how often the fleet key is re-read, off the call
	// path, to repair a missed message and retry an unsent opening;
	// default 5s. The key is also re-read each time the subscription is
	// (re)established.
	RepairInterval time.Duration
	// Timeout bounds each Redis command of the background work; default 1s.
	Timeout time.Duration
	// FailClosed holds the local breaker open while the subscription to
	// Redis is down, so no call goes out while the fleet's state is
	// unknown. By default (fail open) calls go on, protected by the local
	// breaker alone.
	FailClosed bool

	// Listeners hear the connection to Redis come and go: an
	// [resilience.EventStateChange] of Policy "riprapredis" from
	// "connected" to "disconnected" (Degraded, with the error as Reason)
	// and back.
	Listeners resilience.Listeners
}

// breakerSettings is a validated BreakerConfig with defaults applied.
type breakerSettings struct {
	name, instance    string
	stateKey, reports string // hash-tagged, so both live in one cluster slot
	channel           string
	quorum            int
	quorumWindow      time.Duration
	releaseDelay      time.Duration
	repairEvery       time.Duration
	timeout           time.Duration
	failClosed        bool
	clk               clock.Clock
}

func (c *BreakerConfig) settings() (breakerSettings, error) {
	name := c.Breaker.Name
	var s breakerSettings
	switch {
	case c.Client == nil:
		return s, configError(name, "Client", "must not be nil", nil)
	case name == "":
		return s, configError(name, "Breaker.Name", "must not be empty", name)
	case strings.ContainsAny(c.Instance, "\r\n"):
		return s, configError(name, "Instance", "must not hold a newline", c.Instance)
	case c.Quorum < 0:
		return s, configError(name, "Quorum", "must not be negative", c.Quorum)
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"QuorumWindow", c.QuorumWindow}, {"ReleaseDelay", c.ReleaseDelay}, {"RepairInterval", c.RepairInterval}, {"Timeout", c.Timeout}} {
		if d.v < 0 {
			return s, configError(name, d.field, "must not be negative", d.v)
		}
	}
	if c.Quorum > 1 && orDefault(c.QuorumWindow, DefaultQuorumWindow) < time.Millisecond {
		return s, configError(name, "QuorumWindow", "must be at least 1ms", c.QuorumWindow)
	}
	prefix := orDefault(c.Prefix, DefaultPrefix)
	s = breakerSettings{
		name:         name,
		instance:     orDefault(c.Instance, defaultInstance()),
		stateKey:     prefix + "breaker:{" + name + "}",
		reports:      prefix + "breaker:{" + name + "}:reports",
		channel:      prefix + "breaker:" + name,
		quorum:       c.Quorum,
		quorumWindow: orDefault(c.QuorumWindow, DefaultQuorumWindow),
		releaseDelay: c.ReleaseDelay,
		repairEvery:  orDefault(c.RepairInterval, DefaultRepairInterval),
		timeout:      orDefault(c.Timeout, DefaultTimeout),
		failClosed:   c.FailClosed,
		clk:          c.Breaker.Clock,
	}
	if s.clk == nil {
		s.clk = clock.New()
	}
	return s, nil
}

func orDefault[V comparable](v, def V) V {
	var zero V
	if v == zero {
		return def
	}
	return v
}

// defaultInstance names this process readably and uniquely: two processes
// on one host differ by pid, two runs with a recycled pid by the random
// suffix.
func defaultInstance() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "host"
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return fmt.Sprintf("%s-%d-%s", sanitize(host), os.Getpid(), hex.EncodeToString(b[:]))
}
