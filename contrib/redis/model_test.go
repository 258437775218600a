package riprapredis_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	riprapredis "github.com/riprap-go/riprap/contrib/redis"
	"github.com/riprap-go/riprap/contrib/redis/internal/redistest"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// stepClock is a clock that moves only when told, with no sleeping (the
// mock clock yields a millisecond on every move, too slow for thousands of
// property-test steps). Limiters only read Now.
type stepClock struct {
	clock.Clock
	ns atomic.Int64
}

func (c *stepClock) Now() time.Time { return time.Unix(1772366400, c.ns.Load()) }

func (c *stepClock) add(d time.Duration) { c.ns.Add(int64(d)) }

// bucket is the reference model: a token bucket holding credit in
// microseconds of refill, written independently of the GCRA script.
type bucket struct {
	interval, tau, credit, last int64 // µs
	admitted                    uint64
}

func (m *bucket) take(now int64) bool {
	m.credit = min(m.credit+now-m.last, m.tau)
	m.last = now
	if m.credit < m.interval {
		return false
	}
	m.credit -= m.interval
	m.admitted++
	return true
}

// One script per decision: every decision of a fleet limiter matches the
// token-bucket model, refusals cached locally included.
func TestLimiterMatchesTheTokenBucketModel(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client(t)
	cases := 0
	rapid.Check(t, func(t *rapid.T) {
		cases++
		perSecond := rapid.SampledFrom([]int{10, 50, 100, 1000}).Draw(t, "perSecond")
		burst := rapid.IntRange(1, 8).Draw(t, "burst")
		clk := &stepClock{}
		l, err := riprapredis.NewLimiter(riprapredis.LimiterConfig{
			Client: client, Name: fmt.Sprintf("model-%d", cases), Rate: ratelimit.PerSecond(perSecond),
			Burst: burst, Time: riprapredis.CallerTime, Clock: clk, Timeout: waitFor,
		})
		require.NoError(t, err)
		iv := int64(1_000_000 / perSecond)
		m := &bucket{interval: iv, tau: int64(burst) * iv, credit: int64(burst) * iv}
		now := int64(0)
		t.Repeat(map[string]func(*rapid.T){
			"advance": func(t *rapid.T) {
				d := rapid.Int64Range(0, 3*iv).Draw(t, "µs")
				clk.add(time.Duration(d) * time.Microsecond)
				now += d
			},
			"admit": func(t *rapid.T) {
				got, want := l.Admit(context.Background()) == nil, m.take(now)
				if got != want {
					t.Fatalf("at %dµs: admitted %v, model says %v", now, got, want)
				}
			},
			"": func(t *rapid.T) {
				s := l.Snapshot()
				if s.Fallbacks != 0 || s.Admitted != m.admitted {
					t.Fatalf("admitted %d (model %d), fallbacks %d: %s", s.Admitted, m.admitted, s.Fallbacks, s.LastError)
				}
			},
		})
	})
}

// Leased mode, three instances, any schedule: in every window w the fleet
// admits at most rate × (w + LeaseTTL) + burst.
func TestLeasedFleetKeepsItsBoundOnAnySchedule(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client(t)
	cases := 0
	rapid.Check(t, func(t *rapid.T) {
		cases++
		const perSecond, burst, lease = 100, 10, 4
		clk := &stepClock{}
		var ls []*riprapredis.Limiter
		for range 3 {
			l, err := riprapredis.NewLimiter(riprapredis.LimiterConfig{
				Client: client, Name: fmt.Sprintf("lease-%d", cases), Rate: ratelimit.PerSecond(perSecond),
				Burst: burst, Lease: lease, Time: riprapredis.CallerTime, Clock: clk, Timeout: waitFor,
			})
			require.NoError(t, err)
			ls = append(ls, l)
		}
		var admitted []time.Time
		t.Repeat(map[string]func(*rapid.T){
			"advance": func(t *rapid.T) {
				clk.add(time.Duration(rapid.Int64Range(0, 30_000).Draw(t, "µs")) * time.Microsecond)
			},
			"admit": func(t *rapid.T) {
				l := ls[rapid.IntRange(0, 2).Draw(t, "instance")]
				if l.Admit(context.Background()) == nil {
					admitted = append(admitted, clk.Now())
				}
			},
			"": func(t *rapid.T) {
				if bad := overAdmitted(admitted, perSecond, burst, lease*10*time.Millisecond); len(bad) > 0 {
					t.Fatalf("%v", bad)
				}
				for i, l := range ls {
					// Every call admitted spent a token the fleet granted.
					s := l.Snapshot()
					if s.Fallbacks != 0 || s.Admitted+s.Expired+uint64(s.LeaseTokens) != s.Leased {
						t.Fatalf("instance %d: %+v", i, s)
					}
				}
			},
		})
	})
}
