package bulkhead_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/bulkhead"
)

func TestSnapshotJSON(t *testing.T) {
	s := bulkhead.Snapshot{Name: "ledger", MaxConcurrent: 2, MaxQueue: 4, MaxWait: 250 * time.Millisecond,
		InFlight: 2, Queued: 1, Waited: 7, Rejected: 3, TimedOut: 1}
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"ledger","max_concurrent":2,"max_queue":4,"max_wait":"250ms",
		"in_flight":2,"queued":1,"waited":7,"rejected":3,"timed_out":1,"abandoned":0}`, string(b))
	var back bulkhead.Snapshot
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, s, back)
	assert.Error(t, json.Unmarshal([]byte(`{"max_wait":"soon"}`), &back))
	assert.Error(t, json.Unmarshal([]byte(`{"max_wait":1}`), &back))
}

func TestAdaptiveSnapshotJSON(t *testing.T) {
	s := bulkhead.AdaptiveSnapshot{Name: "bank", Limit: 8, Min: 1, Max: 1000, LatencyTarget: 250 * time.Millisecond,
		InFlight: 3, Drops: 2}
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"bank","limit":8,"min":1,"max":1000,"latency_target":"250ms",
		"latency_target_seconds":0.25,"in_flight":3,"rejected":0,"drops":2}`, string(b))
	var back bulkhead.AdaptiveSnapshot
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, s, back)
	assert.Error(t, json.Unmarshal([]byte(`{"latency_target":"x"}`), &back))
}

func TestSnapshotsLogAsGroups(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: dropTime}))
	log.Info("bulkhead", "snapshot", bulkhead.Snapshot{Name: "ledger", MaxConcurrent: 2, InFlight: 1})
	log.Info("adaptive", "snapshot", bulkhead.AdaptiveSnapshot{Name: "bank", Limit: 4, Min: 1, Max: 9, LatencyTarget: time.Second})
	assert.Equal(t, "level=INFO msg=bulkhead snapshot.name=ledger snapshot.max_concurrent=2 snapshot.max_queue=0 "+
		"snapshot.max_wait=0s snapshot.in_flight=1 snapshot.queued=0 snapshot.waited=0 snapshot.rejected=0 "+
		"snapshot.timed_out=0 snapshot.abandoned=0\n"+
		"level=INFO msg=adaptive snapshot.name=bank snapshot.limit=4 snapshot.min=1 snapshot.max=9 "+
		"snapshot.latency_target=1s snapshot.in_flight=0 snapshot.rejected=0 snapshot.drops=0\n", buf.String())
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
