package riprapredis_test

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	riprapredis "github.com/riprap-go/riprap/contrib/redis"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// offline is a client that is never used: constructors do not touch Redis.
var offline = redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})

func TestNewBreakerRefusesBadConfig(t *testing.T) {
	ok := func() riprapredis.BreakerConfig {
		return riprapredis.BreakerConfig{Client: offline, Breaker: breaker.Config{Name: "bank"}}
	}
	for _, tc := range []struct {
		name      string
		edit      func(*riprapredis.BreakerConfig)
		component string
		field     string
	}{
		{"no client", func(c *riprapredis.BreakerConfig) { c.Client = nil }, "riprapredis", "Client"},
		{"no name", func(c *riprapredis.BreakerConfig) { c.Breaker.Name = "" }, "riprapredis", "Breaker.Name"},
		{"newline in instance", func(c *riprapredis.BreakerConfig) { c.Instance = "a\nb" }, "riprapredis", "Instance"},
		{"negative quorum", func(c *riprapredis.BreakerConfig) { c.Quorum = -1 }, "riprapredis", "Quorum"},
		{"negative window", func(c *riprapredis.BreakerConfig) { c.QuorumWindow = -time.Second }, "riprapredis", "QuorumWindow"},
		{"sub-millisecond window", func(c *riprapredis.BreakerConfig) { c.Quorum, c.QuorumWindow = 2, time.Microsecond }, "riprapredis", "QuorumWindow"},
		{"negative release delay", func(c *riprapredis.BreakerConfig) { c.ReleaseDelay = -1 }, "riprapredis", "ReleaseDelay"},
		{"negative repair", func(c *riprapredis.BreakerConfig) { c.RepairInterval = -1 }, "riprapredis", "RepairInterval"},
		{"negative timeout", func(c *riprapredis.BreakerConfig) { c.Timeout = -1 }, "riprapredis", "Timeout"},
		{"bad local breaker", func(c *riprapredis.BreakerConfig) { c.Breaker.FailureRate = 2 }, "breaker", "FailureRate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok()
			tc.edit(&cfg)
			b, err := riprapredis.NewBreaker(cfg)
			assert.Nil(t, b)
			var ce *resilience.ConfigError
			require.True(t, errors.As(err, &ce), "got %v", err)
			assert.Equal(t, tc.component, ce.Component)
			assert.Equal(t, tc.field, ce.Field)
		})
	}
	b, err := riprapredis.NewBreaker(ok())
	require.NoError(t, err)
	assert.Equal(t, "bank", b.Name())
	assert.NotEmpty(t, b.Instance(), "a default instance name")
	assert.Equal(t, breaker.Closed, b.Local().State())
	require.NoError(t, b.Close(), "Close before Start")
}

func TestNewLimiterRefusesBadConfig(t *testing.T) {
	ok := func() riprapredis.LimiterConfig {
		return riprapredis.LimiterConfig{Client: offline, Name: "bank", Rate: ratelimit.PerSecond(10), Burst: 5}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*riprapredis.LimiterConfig)
		field string
		rule  string
	}{
		{"no client", func(c *riprapredis.LimiterConfig) { c.Client = nil }, "Client", "must not be nil"},
		{"no name", func(c *riprapredis.LimiterConfig) { c.Name = "" }, "Name", "must not be empty"},
		{"zero rate", func(c *riprapredis.LimiterConfig) { c.Rate = ratelimit.Rate{} }, "Rate", "must be positive or ratelimit.Inf"},
		{"negative burst", func(c *riprapredis.LimiterConfig) { c.Burst = -1 }, "Burst", "must not be negative"},
		{"huge burst", func(c *riprapredis.LimiterConfig) { c.Burst = 1 << 40 }, "Burst", "must be at most 10995116 at rate 10/s"},
		{"negative lease", func(c *riprapredis.LimiterConfig) { c.Lease = -1 }, "Lease", "must not be negative"},
		{"lease over burst", func(c *riprapredis.LimiterConfig) { c.Lease = 6 }, "Lease", "must be at most Burst (5)"},
		{"unknown time source", func(c *riprapredis.LimiterConfig) { c.Time = 7 }, "Time", "must be ServerTime or CallerTime"},
		{"local and fail closed", func(c *riprapredis.LimiterConfig) {
			c.FailClosed = true
			c.Local, _ = ratelimit.New(ratelimit.PerSecond(1), 1)
		}, "FailClosed", "must be false when Local is set"},
		{"negative lease ttl", func(c *riprapredis.LimiterConfig) { c.LeaseTTL = -1 }, "LeaseTTL", "must not be negative"},
		{"negative timeout", func(c *riprapredis.LimiterConfig) { c.Timeout = -1 }, "Timeout", "must not be negative"},
		{"negative down wait", func(c *riprapredis.LimiterConfig) { c.DownWait = -1 }, "DownWait", "must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok()
			tc.edit(&cfg)
			l, err := riprapredis.NewLimiter(cfg)
			assert.Nil(t, l)
			var ce *resilience.ConfigError
			require.True(t, errors.As(err, &ce), "got %v", err)
			assert.Equal(t, "riprapredis", ce.Component)
			if tc.field != "Name" {
				assert.Equal(t, "bank", ce.Name)
			}
			assert.Equal(t, tc.field, ce.Field)
			assert.Equal(t, tc.rule, ce.Rule)
		})
	}
	l, err := riprapredis.NewLimiter(ok())
	require.NoError(t, err)
	assert.Equal(t, "bank", l.Name())
}
