package riprapredis_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	riprapredis "github.com/riprap-go/riprap/contrib/redis"
	"github.com/riprap-go/riprap/contrib/redis/internal/redistest"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

// waitFor bounds every wait on something that happens over a real socket.
// It guards against a hang; no test asserts how long anything took.
const waitFor = 10 * time.Second

var errBank = errors.New("bank: connection refused")

// commandCounter is a go-redis hook counting the commands a client sends,
// pipelined ones included: the round trips of the code under test.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// member is one instance of a fleet: its own client (as a separate process
// would have), its fleet breaker, and what its local breaker did.
type member struct {
	*riprapredis.Breaker
	client *redis.Client
	cmds   *commandCounter
	rec    *resiliencetest.Recorder

	mu      sync.Mutex
	changes map[string][]time.Time // "from->to" -> when the local breaker made it
	signal  chan struct{}
}

// newMember builds and starts an instance named name of the fleet whose
// breaker is called fleet. tweak adjusts the configuration first.
func newMember(t *testing.T, srv *redistest.Server, fleet, name string, tweak func(*riprapredis.BreakerConfig)) *member {
	t.Helper()
	m := &member{client: srv.Client(t), cmds: &commandCounter{}, rec: resiliencetest.NewRecorder(),
		changes: map[string][]time.Time{}, signal: make(chan struct{}, 1)}
	m.client.AddHook(m.cmds)
	cfg := riprapredis.BreakerConfig{
		Client:   m.client,
		Instance: name,
		Breaker: breaker.Config{
			Name: fleet, ConsecutiveFailures: 3, OpenWait: time.Minute,
			Listeners: resilience.Listeners{resilience.OnStateChange(m.onChange)},
		},
		Listeners: resilience.Listeners{m.rec.Listener()},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	b, err := riprapredis.NewBreaker(cfg)
	require.NoError(t, err)
	m.Breaker = b
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(t, b.Start(ctx), "start %s", name)
	return m
}

func (m *member) onChange(e resilience.Event) {
	m.mu.Lock()
	key := e.From + "->" + e.To
	m.changes[key] = append(m.changes[key], e.Time)
	m.mu.Unlock()
	select {
	case m.signal <- struct{}{}:
	default:
	}
}

// when returns when the local breaker first entered state to (from any
// state), or the zero time.
func (m *member) when(to breaker.State) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	var first time.Time
	for key, ts := range m.changes {
		if len(key) > len(to.String()) && key[len(key)-len(to.String()):] == to.String() {
			for _, at := range ts {
				if first.IsZero() || at.Before(first) {
					first = at
				}
			}
		}
	}
	return first
}

// call makes one call through the member's breaker.
func (m *member) call(err error) error {
	return resilience.Run(context.Background(), func(context.Context) error { return err }, m)
}

// trip fails calls until the local breaker opens.
func (m *member) trip(t *testing.T) {
	t.Helper()
	for range 3 {
		require.ErrorIs(t, m.call(errBank), errBank)
	}
	require.Equal(t, breaker.Open, m.Local().State())
}

// eventually waits, over real time, for cond; msg says what was awaited.
func eventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventually(t, cond, waitFor, time.Millisecond, fmt.Sprintf(msg, args...))
}

func (m *member) state() breaker.State { return m.Local().State() }

func (m *member) String() string { return fmt.Sprintf("%s (%s)", m.Instance(), m.state()) }

// newMockClock returns a mock clock set to a plausible date, so that
// milliseconds since the Unix epoch have their usual magnitude.
func newMockClock() *clock.Mock {
	clk := clock.NewMock()
	clk.Set(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	return clk
}
