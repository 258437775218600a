package riprapredis_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	riprapredis "github.com/riprap-go/riprap/contrib/redis"
	"github.com/riprap-go/riprap/contrib/redis/internal/redistest"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// admitter is what the over-admission check drives: a fleet limiter or,
// to show that the check can fail, a local one.
type admitter interface{ Admit(context.Context) error }

type localAdmitter struct{ l *ratelimit.Limiter }

func (a localAdmitter) Admit(context.Context) error {
	if a.l.Allow() {
		return nil
	}
	return ratelimit.ErrLimited
}

// newLimiter builds a fleet limiter on its own client, as one instance of
// a fleet would have it.
func newLimiter(t *testing.T, srv *redistest.Server, cfg riprapredis.LimiterConfig) (*riprapredis.Limiter, *commandCounter) {
	t.Helper()
	client := srv.Client(t)
	cmds := &commandCounter{}
	client.AddHook(cmds)
	cfg.Client = client
	if cfg.Timeout == 0 {
		cfg.Timeout = waitFor // a slow round trip on a loaded machine must not fall back
	}
	l, err := riprapredis.NewLimiter(cfg)
	require.NoError(t, err)
	return l, cmds
}

// drive makes every admitter try perStep calls at each step of the mock
// clock, for steps steps of step each, and returns the admission times.
func drive(t *testing.T, clk *clock.Mock, ls []admitter, steps, perStep int, step time.Duration) []time.Time {
	t.Helper()
	var admitted []time.Time
	for range steps {
		for _, l := range ls {
			for range perStep {
				if err := l.Admit(context.Background()); err == nil {
					admitted = append(admitted, clk.Now())
				} else {
					require.ErrorIs(t, err, ratelimit.ErrLimited)
				}
			}
		}
		clk.Add(step)
	}
	return admitted
}

// maxInWindow returns the most admissions in any closed window [t, t+w].
func maxInWindow(times []time.Time, w time.Duration) int {
	times = slices.SortedFunc(slices.Values(times), time.Time.Compare)
	most, lo := 0, 0
	for hi, t := range times {
		for t.Sub(times[lo]) > w {
			lo++
		}
		most = max(most, hi-lo+1)
	}
	return most
}

// overAdmitted lists the windows in which more than rate×(w+slack)+burst
// calls were admitted; empty means the fleet kept its limit.
func overAdmitted(times []time.Time, perSecond, burst int, slack time.Duration) []string {
	var bad []string
	for _, w := range []time.Duration{0, 10 * time.Millisecond, 100 * time.Millisecond, time.Second, 2 * time.Second} {
		limit := int(int64(perSecond)*int64(w+slack)/int64(time.Second)) + burst // no float rounding
		if got := maxInWindow(times, w); got > limit {
			bad = append(bad, fmt.Sprintf("window %v: got %d admissions, want at most %d", w, got, limit))
		}
	}
	return bad
}

// Three instances share one GCRA bucket: over every window the fleet admits
// at most rate×window + burst, and about that many over the whole run.
func TestLimiterNeverOverAdmitsAcrossThreeClients(t *testing.T) {
	srv := redistest.Start(t)
	clk := newMockClock()
	var ls []admitter
	for range 3 {
		l, _ := newLimiter(t, srv, riprapredis.LimiterConfig{
			Name: "bank", Rate: ratelimit.PerSecond(50), Burst: 5, Time: riprapredis.CallerTime, Clock: clk,
		})
		ls = append(ls, l)
	}
	admitted := drive(t, clk, ls, 300, 3, 5*time.Millisecond) // 1.5s, 9 calls per 5ms asked
	noFallbacks(t, ls)
	assert.Empty(t, overAdmitted(admitted, 50, 5, 0))
	assert.GreaterOrEqual(t, len(admitted), 50*3/2+5-1, "the fleet gets its whole rate")
}

// The check above can fail: three local limiters of the same rate admit
// three times the fleet's share.
func TestOverAdmissionCheckCatchesUnsharedLimiters(t *testing.T) {
	clk := newMockClock()
	var ls []admitter
	for range 3 {
		l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.PerSecond(50), Burst: 5, Clock: clk})
		require.NoError(t, err)
		ls = append(ls, localAdmitter{l})
	}
	admitted := drive(t, clk, ls, 300, 3, 5*time.Millisecond)
	assert.NotEmpty(t, overAdmitted(admitted, 50, 5, 0))
}

// With the server's clock, three clients asking every millisecond of real
// time are admitted no more than rate × the time they ran + burst.
func TestLimiterWithServerTimeKeepsTheFleetRate(t *testing.T) {
	srv := redistest.Start(t)
	const perSecond, burst = 200, 10
	var ls []*riprapredis.Limiter
	for range 3 {
		l, _ := newLimiter(t, srv, riprapredis.LimiterConfig{Name: "bank", Rate: ratelimit.PerSecond(perSecond), Burst: burst})
		ls = append(ls, l)
	}
	var mu sync.Mutex
	admitted := 0
	start := time.Now()
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Go(func() {
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for range 300 {
				<-tick.C
				if l.Admit(context.Background()) == nil {
					mu.Lock()
					admitted++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	assert.LessOrEqual(t, admitted, int(perSecond*elapsed.Seconds())+burst, "over %v", elapsed)
	assert.GreaterOrEqual(t, admitted, burst)
	t.Logf("3 clients: %d of 900 admitted in %v", admitted, elapsed)
}

// CallerTime never runs TIME on the server; ServerTime does, inside the
// script (counted by INFO commandstats).
func TestTimeSourceDecidesWhetherTheScriptCallsTime(t *testing.T) {
	for _, tc := range []struct {
		source   riprapredis.TimeSource
		wantTime bool
	}{{riprapredis.CallerTime, false}, {riprapredis.ServerTime, true}} {
		t.Run(tc.source.String(), func(t *testing.T) {
			srv := redistest.Start(t)
			l, _ := newLimiter(t, srv, riprapredis.LimiterConfig{Name: "bank", Rate: ratelimit.PerSecond(10), Time: tc.source})
			require.NoError(t, l.Admit(context.Background()))
			calls, err := srv.CommandCalls(context.Background(), srv.Client(t))
			require.NoError(t, err)
			assert.Equal(t, tc.wantTime, calls["time"] > 0, "commandstats: %v", calls)
		})
	}
}

// A refusal is remembered until a token is free: refused calls do not ask
// Redis again before then.
func TestRefusalIsCachedUntilATokenIsFree(t *testing.T) {
	srv := redistest.Start(t)
	clk := newMockClock()
	l, cmds := newLimiter(t, srv, riprapredis.LimiterConfig{
		Name: "bank", Rate: ratelimit.PerSecond(10), Burst: 2, Time: riprapredis.CallerTime, Clock: clk,
	})
	require.NoError(t, l.Admit(context.Background()))
	require.NoError(t, l.Admit(context.Background()))
	err := l.Admit(context.Background())
	require.ErrorIs(t, err, ratelimit.ErrLimited)
	r, ok := resilience.AsRejection(err)
	require.True(t, ok)
	assert.Equal(t, 100*time.Millisecond, r.RetryAfter)
	assert.Equal(t, "bank", r.Name)
	before := cmds.n.Load()
	for range 50 {
		require.ErrorIs(t, l.Admit(context.Background()), ratelimit.ErrLimited)
	}
	assert.Equal(t, before, cmds.n.Load(), "cached refusals make no command")
	clk.Add(100 * time.Millisecond)
	require.NoError(t, l.Admit(context.Background()))
	assert.Equal(t, uint64(4), l.Snapshot().RoundTrips, "2 admitted, 1 refused, 1 admitted")
}

// noFallbacks checks that every decision of the fleet limiters in ls came
// from Redis: a fallback admits by its own rules, which would void a check
// of the fleet's bound.
func noFallbacks(t *testing.T, ls []admitter) {
	t.Helper()
	for _, a := range ls {
		if l, ok := a.(*riprapredis.Limiter); ok {
			s := l.Snapshot()
			require.Zero(t, s.Fallbacks, "decisions made without Redis: %s", s.LastError)
		}
	}
}
