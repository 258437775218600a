package riprapredis_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	riprapredis "github.com/riprap-go/riprap/contrib/redis"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

func TestBreakerSnapshotJSON(t *testing.T) {
	s := riprapredis.BreakerSnapshot{
		Name: "bank", Instance: "a", Connection: "connected", Epoch: 4, Holding: true,
		HoldRemaining: 1500 * time.Millisecond, Published: 1, Received: 3, Repaired: 1, Holds: 2,
		Releases: 1, Reconnects: 1, Errors: 2, LastError: "dial tcp: connection refused",
		Local: breaker.Snapshot{Name: "bank", State: breaker.HeldOpen},
	}
	out, err := json.Marshal(s)
	require.NoError(t, err)
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(out, &fields))
	local, err := json.Marshal(s.Local)
	require.NoError(t, err)
	assert.JSONEq(t, string(local), string(fields["local"]), "the local breaker's own form")
	delete(fields, "local")
	rest, err := json.Marshal(fields)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"bank","instance":"a","connection":"connected","epoch":4,"holding":true,
		"hold_remaining":"1.5s","hold_remaining_seconds":1.5,"published":1,"reported":0,"adopted":0,
		"received":3,"repaired":1,"holds":2,"releases":1,"reconnects":1,"errors":2,
		"last_error":"dial tcp: connection refused"}`, string(rest))
}

func TestLimiterSnapshotJSON(t *testing.T) {
	s := riprapredis.LimiterSnapshot{
		Name: "bank", Rate: ratelimit.PerSecond(200), Burst: 20, Lease: 5, Time: riprapredis.ServerTime,
		Redis: "open", Admitted: 10, Rejected: 2, RoundTrips: 3, Fallbacks: 1, Errors: 1, Leased: 10,
		Expired: 1, LeaseTokens: 2, LeaseRemaining: 25 * time.Millisecond, LastError: "timeout",
	}
	out, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"bank","rate":"200/s","burst":20,"lease":5,"time":"server","redis":"open",
		"admitted":10,"rejected":2,"round_trips":3,"fallbacks":1,"errors":1,"leased":10,"expired":1,
		"lease_tokens":2,"lease_remaining":"25ms","lease_remaining_seconds":0.025,"last_error":"timeout"}`, string(out))
}

func TestSnapshotsLogAsGroups(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	log.Info("fleet", "breaker", riprapredis.BreakerSnapshot{Instance: "a", Connection: "disconnected", LastError: "refused"},
		"limiter", riprapredis.LimiterSnapshot{Rate: ratelimit.PerSecond(5), Redis: "closed"})
	assert.Contains(t, buf.String(), "breaker.instance=a breaker.connection=disconnected")
	assert.Contains(t, buf.String(), "breaker.last_error=refused")
	assert.Contains(t, buf.String(), "limiter.rate=5/s")
	assert.Contains(t, buf.String(), "breaker.local.state=closed")
}
