package riprapredis_test

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	riprapredis "github.com/riprap-go/riprap/contrib/redis"
	"github.com/riprap-go/riprap/contrib/redis/internal/redistest"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// Redis killed mid-run: no panic, every instance goes on with its own
// breaker (an opening protects the instance that saw it), and when Redis
// comes back, empty, the opening still in force is published and the peers
// are held: the fleet's state is rebuilt from the instances'.
func TestRedisKilledAndRestartedMidRun(t *testing.T) {
	srv := redistest.Start(t)
	a := newMember(t, srv, "bank", "a", nil)
	b := newMember(t, srv, "bank", "b", nil)
	c := newMember(t, srv, "bank", "c", nil)

	srv.Kill()
	for _, m := range []*member{a, b, c} {
		eventually(t, func() bool { return m.Snapshot().Connection == "disconnected" }, "%v sees the loss", m)
	}
	for range 100 {
		require.NoError(t, b.call(nil), "calls go on while Redis is down")
		require.NoError(t, c.call(nil))
	}
	a.trip(t)
	require.ErrorIs(t, a.call(nil), breaker.ErrOpen, "local protection continues")
	eventually(t, func() bool { return a.Snapshot().Errors > 0 }, "A's publish failed")
	assert.Equal(t, breaker.Closed, b.state(), "fail open: B keeps calling")
	assert.Zero(t, a.Snapshot().Published)

	srv.Restart()
	for _, m := range []*member{b, c} {
		eventually(t, func() bool { return m.state() == breaker.HeldOpen }, "%v held once Redis is back", m)
	}
	eventually(t, func() bool { return a.Snapshot().Published == 1 }, "the opening was sent after the outage")
	eventually(t, func() bool { return a.Snapshot().Connection == "connected" }, "A subscribed again")
	snap := a.Snapshot()
	assert.Equal(t, uint64(1), snap.Reconnects)
	assert.Equal(t, int64(1), snap.Epoch, "the fleet key was lost with the server: epochs start again")

	// The fleet works as before: a new instance learns the state by reading.
	d := newMember(t, srv, "bank", "d", nil)
	eventually(t, func() bool { return d.state() == breaker.HeldOpen }, "D held from the key")
	assert.Equal(t, uint64(1), d.Snapshot().Repaired)
}

// FailClosed holds the local breaker open while the subscription is down
// and releases it (to half-open) when Redis is back.
func TestFailClosedHoldsWhileRedisIsDown(t *testing.T) {
	srv := redistest.Start(t)
	m := newMember(t, srv, "bank", "m", func(c *riprapredis.BreakerConfig) { c.FailClosed = true })
	require.NoError(t, m.call(nil))

	srv.Kill()
	eventually(t, func() bool { return m.state() == breaker.HeldOpen }, "held while Redis is down")
	require.ErrorIs(t, m.call(nil), breaker.ErrOpen)

	srv.Restart()
	eventually(t, func() bool { return m.state() == breaker.HalfOpen }, "released when Redis is back")
	require.NoError(t, m.call(nil))
	assert.Equal(t, breaker.Closed, m.state())
	assert.Equal(t, []string{"connecting->connected", "connected->disconnected", "disconnected->connected"},
		m.rec.StateChanges())
}

// Start against a Redis that is not there returns when its context ends;
// calls are local meanwhile, and Close ends the retrying at once.
func TestStartWithRedisDownKeepsCallsLocal(t *testing.T) {
	srv := redistest.Start(t)
	srv.Kill()
	b, err := riprapredis.NewBreaker(riprapredis.BreakerConfig{
		Client: srv.Client(t), Breaker: breaker.Config{Name: "bank"},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, b.Start(ctx), context.DeadlineExceeded)
	require.ErrorIs(t, b.Start(context.Background()), riprapredis.ErrStarted)
	for range 10 {
		require.NoError(t, resilience.Run(context.Background(), func(context.Context) error { return nil }, b))
	}
	require.NoError(t, b.Close())
	require.NoError(t, b.Close(), "Close is idempotent")
	require.ErrorIs(t, b.Start(context.Background()), riprapredis.ErrClosed)
	assert.Equal(t, "disconnected", b.Snapshot().Connection)
}

// A Close while Start is still waiting for Redis ends the wait.
func TestCloseEndsAWaitingStart(t *testing.T) {
	srv := redistest.Start(t)
	srv.Kill()
	b, err := riprapredis.NewBreaker(riprapredis.BreakerConfig{
		Client: srv.Client(t), Breaker: breaker.Config{Name: "bank"},
	})
	require.NoError(t, err)
	var started error
	var wg sync.WaitGroup
	wg.Go(func() { started = b.Start(context.Background()) })
	eventually(t, func() bool { return b.Snapshot().Connection == "disconnected" }, "Start is waiting")
	require.NoError(t, b.Close())
	wg.Wait()
	require.ErrorIs(t, started, riprapredis.ErrClosed)
}

// Close waits for every goroutine it started and releases the hold it
// placed, since nobody else would.
func TestCloseEndsGoroutinesAndReleasesItsHold(t *testing.T) {
	srv := redistest.Start(t)
	a := newMember(t, srv, "bank", "a", nil)
	b := newMember(t, srv, "bank", "b", nil)
	a.trip(t)
	eventually(t, func() bool { return b.state() == breaker.HeldOpen }, "B held")
	require.Positive(t, ours(), "the check sees the running goroutines")

	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
	// A goroutine may still be unwinding after its WaitGroup.Done.
	eventually(t, func() bool { return ours() == 0 }, "goroutines left after Close:\n%s", stacks())
	assert.Equal(t, breaker.HalfOpen, b.state(), "B's hold released")
	assert.Equal(t, breaker.Open, a.state(), "A's own opening is A's to end")
}

// ours counts the goroutines running this package's code.
func ours() int {
	count := 0
	for g := range strings.SplitSeq(stacks(), "\n\n") {
		if strings.Contains(g, "contrib/redis.(*Breaker)") {
			count++
		}
	}
	return count
}

func stacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}
