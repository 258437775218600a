package riprapredis_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	riprapredis "github.com/riprap-go/riprap/contrib/redis"
	"github.com/riprap-go/riprap/contrib/redis/internal/redistest"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// writeOpening puts an opening in the fleet key without publishing it: the
// state a peer finds after its message was lost.
func writeOpening(t *testing.T, srv *redistest.Server, fleet string, epoch int64, deadline time.Time) {
	t.Helper()
	admin := srv.Client(t)
	key := riprapredis.DefaultPrefix + "breaker:{" + fleet + "}"
	require.NoError(t, admin.HSet(context.Background(), key,
		"epoch", epoch, "deadline", deadline.UnixMilli(), "wait", time.Minute.Milliseconds(),
		"origin", "ghost", "reason", "lost message").Err())
}

// A message missed while subscribed is repaired by the periodic re-read.
func TestMissedMessageIsRepairedPeriodically(t *testing.T) {
	srv := redistest.Start(t)
	clk := newMockClock()
	b := newMember(t, srv, "bank", "b", func(c *riprapredis.BreakerConfig) {
		c.RepairInterval, c.Breaker.Clock = time.Second, clk
	})
	writeOpening(t, srv, "bank", 7, clk.Now().Add(time.Minute))
	assert.Equal(t, breaker.Closed, b.state(), "nothing was published")

	clk.Add(time.Second) // the repair tick
	eventually(t, func() bool { return b.Snapshot().Holds == 1 }, "held after the re-read")
	require.Equal(t, breaker.HeldOpen, b.state())
	snap := b.Snapshot()
	assert.Equal(t, uint64(1), snap.Repaired)
	assert.Zero(t, snap.Received)
	assert.Equal(t, int64(7), snap.Epoch)

	clk.Add(time.Second) // re-reading the same opening changes nothing
	eventually(t, func() bool { return b.Snapshot().Local.State == breaker.HeldOpen }, "still held")
	assert.Equal(t, uint64(1), b.Snapshot().Repaired)
	assert.Equal(t, uint64(1), b.Snapshot().Holds)
}

// A message missed while the subscription was down is repaired by the
// re-read that follows every re-subscription, with no periodic repair.
func TestMissedMessageIsRepairedOnResubscribe(t *testing.T) {
	srv := redistest.Start(t)
	b := newMember(t, srv, "bank", "b", func(c *riprapredis.BreakerConfig) { c.RepairInterval = time.Hour })
	writeOpening(t, srv, "bank", 3, time.Now().Add(time.Minute))
	assert.Equal(t, breaker.Closed, b.state())

	admin := srv.Client(t)
	require.NoError(t, admin.Do(context.Background(), "CLIENT", "KILL", "TYPE", "pubsub").Err())
	eventually(t, func() bool { return b.state() == breaker.HeldOpen }, "held after re-subscribing")
	snap := b.Snapshot()
	assert.Equal(t, uint64(1), snap.Repaired)
	assert.Equal(t, uint64(1), snap.Reconnects)
	assert.Equal(t, "connected", snap.Connection)
}

// An instance that opens while the fleet is already open at an epoch it has
// not seen adopts that opening instead of publishing over it: the
// compare-and-set on the epoch. Nobody hears a second message.
func TestOpeningWithAStaleEpochAdoptsTheFleetsOpening(t *testing.T) {
	srv := redistest.Start(t)
	noRepair := func(c *riprapredis.BreakerConfig) { c.RepairInterval = time.Hour }
	b := newMember(t, srv, "bank", "b", noRepair)
	c := newMember(t, srv, "bank", "c", noRepair)
	writeOpening(t, srv, "bank", 5, time.Now().Add(2*time.Minute))

	b.trip(t)
	eventually(t, func() bool { return b.Snapshot().Adopted == 1 }, "B adopted epoch 5")
	snap := b.Snapshot()
	assert.Zero(t, snap.Published)
	assert.Equal(t, int64(5), snap.Epoch)
	eventually(t, func() bool { return b.state() == breaker.HeldOpen }, "B holds for the longer fleet deadline")
	assert.Zero(t, c.Snapshot().Received, "no message was published")
	assert.Equal(t, breaker.Closed, c.state())
}

// The instance that opened the fleet probes first; peers hold ReleaseDelay
// past the deadline. A failed probe reopens the origin, which publishes
// again and extends the peers' hold; once the origin's probe succeeds, the
// peers go half-open at the end of their hold and confirm recovery with
// their own probes.
func TestPeersReleaseToHalfOpenAfterTheDeadline(t *testing.T) {
	srv := redistest.Start(t)
	clk := newMockClock()
	cfg := func(c *riprapredis.BreakerConfig) {
		c.Breaker.Clock, c.Breaker.OpenWait = clk, 10*time.Second
		c.ReleaseDelay, c.RepairInterval = 2*time.Second, time.Second
	}
	a := newMember(t, srv, "bank", "a", cfg)
	b := newMember(t, srv, "bank", "b", cfg)
	a.trip(t)
	eventually(t, func() bool { return b.state() == breaker.HeldOpen }, "B held")

	clk.Add(10 * time.Second) // A's deadline: A probes, B still holds
	require.Equal(t, breaker.HalfOpen, a.state())
	assert.Equal(t, breaker.HeldOpen, b.state())
	require.ErrorIs(t, a.call(errBank), errBank) // the probe fails: A opens again
	eventually(t, func() bool { return b.Snapshot().Epoch == 2 }, "B heard the second opening")

	clk.Add(2 * time.Second) // past the first hold, within the second
	assert.Equal(t, breaker.HeldOpen, b.state(), "the hold was extended")

	clk.Add(8 * time.Second) // A's second deadline
	require.NoError(t, a.call(nil))
	assert.Equal(t, breaker.Closed, a.state())
	clk.Add(2 * time.Second) // B's hold is over
	eventually(t, func() bool { return b.state() == breaker.HalfOpen }, "B released to half-open")
	eventually(t, func() bool { return b.Snapshot().Releases == 1 }, "counted")
	require.NoError(t, b.call(nil), "B's own probe")
	assert.Equal(t, breaker.Closed, b.state())
}
