package riprapredis_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	riprapredis "github.com/riprap-go/riprap/contrib/redis"
	"github.com/riprap-go/riprap/contrib/redis/internal/redistest"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// An opening on one instance holds the others' breakers open. The time from
// A's local opening to B's and C's holds is measured over several fleets
// and logged (the goal is 100ms); it is not asserted, since it runs
// over real sockets on a shared machine.
func TestOpeningOnOneInstanceHoldsThePeers(t *testing.T) {
	srv := redistest.Start(t)
	const rounds = 10
	var lags []time.Duration
	for i := range rounds {
		fleet := fmt.Sprintf("bank-%d", i)
		a := newMember(t, srv, fleet, "a", nil)
		b := newMember(t, srv, fleet, "b", nil)
		c := newMember(t, srv, fleet, "c", nil)

		a.trip(t)
		for _, peer := range []*member{b, c} {
			eventually(t, func() bool { return peer.Snapshot().Holds == 1 }, "%v never held", peer)
			eventually(t, func() bool { return !peer.when(breaker.HeldOpen).IsZero() }, "%v's event", peer)
			lags = append(lags, peer.when(breaker.HeldOpen).Sub(a.when(breaker.Open)))
			require.Equal(t, breaker.HeldOpen, peer.state())

			err := peer.call(nil)
			require.ErrorIs(t, err, breaker.ErrOpen, "a held peer refuses calls")
			var rej *breaker.RejectedError
			require.ErrorAs(t, err, &rej)
			assert.Equal(t, breaker.HeldOpen, rej.State())
			assert.InDelta(t, time.Minute.Seconds(), rej.RetryAfter().Seconds(), 5, "held until A's deadline")
		}
		assert.Equal(t, breaker.Open, a.state(), "the origin keeps its own opening, not a hold")
		eventually(t, func() bool { return a.Snapshot().Published == 1 }, "A published once")
		assert.Equal(t, uint64(0), a.Snapshot().Holds)
	}
	slices.Sort(lags)
	t.Logf("A opened -> B and C held, over %d fleets: min %v, median %v, max %v (goal: 100ms)",
		rounds, lags[0], lags[len(lags)/2], lags[len(lags)-1])
}

// Calls through a closed breaker never touch Redis: the hook on each
// instance's client counts no command while thousands of calls succeed
// (and a few fail without tripping). The count then moves on an opening,
// so the counter does see the breaker's commands.
func TestClosedCallsMakeNoRedisCommands(t *testing.T) {
	srv := redistest.Start(t)
	noRepair := func(c *riprapredis.BreakerConfig) { c.RepairInterval = time.Hour }
	a := newMember(t, srv, "bank", "a", noRepair)
	b := newMember(t, srv, "bank", "b", noRepair)
	a.cmds.n.Store(0)
	b.cmds.n.Store(0)

	for i := range 5000 {
		err := error(nil)
		if i%100 == 0 {
			err = errBank // a lone failure: counted locally, no transition
		}
		_ = a.call(err)
		require.NoError(t, b.call(nil))
	}
	assert.Equal(t, breaker.Closed, a.state())
	assert.Zero(t, a.cmds.n.Load(), "commands sent by A during closed calls")
	assert.Zero(t, b.cmds.n.Load(), "commands sent by B during closed calls")

	a.trip(t)
	eventually(t, func() bool { return a.cmds.n.Load() > 0 }, "the opening is published")
	eventually(t, func() bool { return b.state() == breaker.HeldOpen }, "B held")
	assert.Zero(t, b.cmds.n.Load(), "a peer learns of the opening from the channel, with no command")
}

// With a quorum of 2, one instance opening alone opens only itself: its
// report is recorded but nothing is published. A second instance's opening
// within the window opens the fleet, and the third is held.
func TestQuorumOpensTheFleetOnlyWhenEnoughInstancesAgree(t *testing.T) {
	srv := redistest.Start(t)
	quorum := func(c *riprapredis.BreakerConfig) { c.Quorum, c.QuorumWindow = 2, time.Minute }
	a := newMember(t, srv, "bank", "a", quorum)
	b := newMember(t, srv, "bank", "b", quorum)
	c := newMember(t, srv, "bank", "c", quorum)

	a.trip(t)
	eventually(t, func() bool { return a.Snapshot().Reported == 1 }, "A's report recorded")
	assert.Zero(t, a.Snapshot().Published)
	assert.Equal(t, breaker.Closed, b.state(), "one bad node does not open the fleet")
	assert.Equal(t, breaker.Closed, c.state())

	b.trip(t)
	eventually(t, func() bool { return c.state() == breaker.HeldOpen }, "C held once B agrees")
	eventually(t, func() bool { return b.Snapshot().Published == 1 }, "B opened the fleet")
	snap := c.Snapshot()
	assert.Equal(t, uint64(1), snap.Received, "C heard B's opening and nothing before it")
	assert.Equal(t, breaker.HeldOpen, snap.Local.State)
}

// Reports older than the window do not count towards the quorum.
func TestQuorumForgetsReportsOutsideTheWindow(t *testing.T) {
	srv := redistest.Start(t)
	clk := newMockClock()
	quorum := func(c *riprapredis.BreakerConfig) {
		c.Quorum, c.QuorumWindow, c.RepairInterval = 2, 10*time.Second, time.Hour
		c.Breaker.Clock = clk
	}
	a := newMember(t, srv, "bank", "a", quorum)
	b := newMember(t, srv, "bank", "b", quorum)
	c := newMember(t, srv, "bank", "c", quorum)

	a.trip(t)
	eventually(t, func() bool { return a.Snapshot().Reported == 1 }, "A's report recorded")
	clk.Add(11 * time.Second) // A's report ages out
	b.trip(t)
	eventually(t, func() bool { return b.Snapshot().Reported == 1 }, "B's report recorded, alone in the window")
	assert.Zero(t, b.Snapshot().Published)
	assert.Equal(t, breaker.Closed, c.state())
}
