package ratelimit_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// TestSnapshotJSON (issue 13): the limiter's snapshot used to marshal as
// {"Name":…,"Rate":{}}.
func TestSnapshotJSON(t *testing.T) {
	mock := clock.NewMock()
	l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.PerSecond(100), Burst: 10, Name: "bank",
		MaxWait: 50 * time.Millisecond, Clock: mock})
	require.NoError(t, err)
	require.True(t, l.AllowN(10))
	require.True(t, l.ReserveN(2).OK())
	b, err := json.Marshal(l.Snapshot())
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"bank","rate":"100/s","burst":10,"max_wait":"50ms","tokens":-2,
		"full_in":"120ms","full_in_seconds":0.12,"rejected":0}`, string(b))
	var back ratelimit.Snapshot
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, l.Snapshot(), back)
	assert.Error(t, json.Unmarshal([]byte(`{"full_in":"later"}`), &back))
	assert.Error(t, json.Unmarshal([]byte(`{"max_wait":"x"}`), &back))
	assert.Error(t, json.Unmarshal([]byte(`{"rate":"fast"}`), &back))
	assert.Error(t, json.Unmarshal([]byte(`[]`), &back))
}

func TestKeyedSnapshotJSON(t *testing.T) {
	k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Per(10, time.Minute), Burst: 2, Name: "merchants",
		Clock: clock.NewMock()})
	require.NoError(t, err)
	for _, m := range []string{"acme", "acme", "acme", "globex"} {
		k.Allow(m)
	}
	b, err := json.Marshal(k.Snapshot())
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"merchants","rate":"10/m","burst":2,"max_keys":65536,"at_capacity":"reject_new_keys",
		"keys":2,"limited":1,"refused":0,"evicted":0,"overflowed":0}`, string(b))
	var back ratelimit.KeyedSnapshot
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, k.Snapshot(), back)
	assert.Error(t, json.Unmarshal([]byte(`{"at_capacity":"panic"}`), &back))
}

func TestAtCapacityText(t *testing.T) {
	for _, a := range []ratelimit.AtCapacity{ratelimit.RejectNewKeys, ratelimit.ShareOverflow} {
		b, err := a.MarshalText()
		require.NoError(t, err)
		var back ratelimit.AtCapacity
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, a, back)
	}
	assert.Equal(t, "share_overflow", ratelimit.ShareOverflow.String())
	assert.Equal(t, "AtCapacity(7)", ratelimit.AtCapacity(7).String())
}

func TestSnapshotsLogAsGroups(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	log.Info("limiter", "snapshot", ratelimit.Snapshot{Name: "bank", Rate: ratelimit.PerSecond(5), Burst: 2, Tokens: 1,
		FullIn: 200 * time.Millisecond, Rejected: 4})
	log.Info("keyed", "snapshot", ratelimit.KeyedSnapshot{Name: "ip", Rate: ratelimit.Inf, Burst: 1, MaxKeys: 8, Keys: 3})
	assert.Equal(t, "level=INFO msg=limiter snapshot.name=bank snapshot.rate=5/s snapshot.burst=2 snapshot.max_wait=0s "+
		"snapshot.tokens=1 snapshot.full_in=200ms snapshot.rejected=4\n"+
		"level=INFO msg=keyed snapshot.name=ip snapshot.rate=Inf snapshot.burst=1 snapshot.max_keys=8 "+
		"snapshot.at_capacity=reject_new_keys snapshot.keys=3 snapshot.limited=0 snapshot.refused=0 "+
		"snapshot.evicted=0 snapshot.overflowed=0\n", buf.String())
}
