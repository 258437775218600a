package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFleetRedisRestart kills the fleet's Redis with SIGKILL mid-run and
// starts it again: no process panics or stops serving, each keeps
// protecting itself from a dead bank with its own breaker while Redis is
// gone, and once Redis is back an outage seen by one process reaches the
// others again. It runs a Redis of its own, since it must kill it.
func TestFleetRedisRestart(t *testing.T) {
	dsn := envServer(t, "RIPRAP_POSTGRES_DSN", "PostgreSQL")
	rs := startRedis(t)
	svc := startServices(t)
	base := nodeConfig{Postgres: dsn, Schema: newSchema(t, dsn), Redis: rs.Addr(), Prefix: newPrefix("restart"),
		Rate: bankRate, Burst: bankBurst, Fleet: 3, ClaimTTL: claimTTL}
	r := newFleetRun(t, svc, base)
	nodes := r.start(breakFromEnv, "gw-1", "gw-2", "gw-3")
	names := nodeNames(nodes)
	r.waitState("riprapredis", "connected", nodes...)
	c := newClients()
	driving(t, c, "restart", outageLoad, nodes)
	time.Sleep(time.Second) // warm: connections to the ledger, the bank and Redis made

	before, _ := outage(t, r, nodes, 1)

	rs.kill()
	r.waitState("riprapredis", "disconnected", nodes...)
	paidBefore := c.succeeded("restart")
	time.Sleep(time.Second)
	paidWhileDown := c.succeeded("restart") - paidBefore
	died := time.Now()
	down, deadWhileDown := outage(t, r, nodes, 1)
	selfOpened := map[string]bool{}
	for _, e := range r.breakerEvents(died) {
		if e.To == "open" {
			selfOpened[e.Instance] = true
		}
	}

	require.NoError(t, rs.start(), "restart Redis on the same port")
	r.waitState("riprapredis", "connected", nodes...)
	after, _ := outage(t, r, nodes, 1)

	t.Logf("FIGURE Redis killed: %d payments succeeded in the second after; during an outage then, each process opened on its own: %v, %d calls reached the dead bank",
		paidWhileDown, selfOpened, deadWhileDown[0])
	t.Logf("FIGURE propagation before the kill %v, with Redis down %v, after the restart %v", before, down, after)
	for _, p := range nodes {
		assert.True(t, p.alive(), "%s still runs", p)
	}
	assert.Positive(t, paidWhileDown, "payments go on while Redis is down")
	for _, n := range names {
		assert.True(t, selfOpened[n], "with Redis down, %s opened its own breaker (local protection)", n)
	}
	assert.Empty(t, checkPropagation(before, names, propagationBound), "before the kill")
	assert.NotEmpty(t, heldLatencies(before), "before the kill, the fleet held peers open")
	assert.Empty(t, checkPropagation(after, names, propagationBound), "after the restart, shared state resumes")
	assert.NotEmpty(t, heldLatencies(after), "after the restart, the fleet holds peers open again")
}
