package breaker_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

var openSnapshot = breaker.Snapshot{
	Name: "bank", State: breaker.Open, Since: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Generation: 3,
	Successes: 90, Failures: 12, Ignored: 2, Rejected: 40, Slow: 1,
	OpenWait: 2500 * time.Millisecond, UntilHalfOpen: 1500 * time.Millisecond, Reopens: 1,
}

func TestSnapshotJSON(t *testing.T) {
	js, err := json.Marshal(openSnapshot)
	require.NoError(t, err)
	assert.Equal(t, `{"name":"bank","state":"open","since":"2026-01-02T03:04:05Z","generation":3,`+
		`"successes":90,"failures":12,"ignored":2,"rejected":40,"slow":1,`+
		`"window_calls":0,"failure_rate":0,"slow_call_rate":0,"consecutive_failures":0,`+
		`"open_wait":"2.5s","open_wait_seconds":2.5,"until_half_open":"1.5s","until_half_open_seconds":1.5,`+
		`"hold_remaining":"0s","hold_remaining_seconds":0,"reopens":1,`+
		`"probes_in_flight":0,"probe_successes":0}`, string(js))

	var back breaker.Snapshot
	require.NoError(t, json.Unmarshal(js, &back))
	assert.Equal(t, openSnapshot, back, "a status page's client reads it back")
}

func TestSnapshotJSONOfALiveBreakerRoundTrips(t *testing.T) {
	b, _ := newBreaker(t, breaker.Config{Name: "fx", FailureRate: 0.5, MinimumCalls: 10, WindowSize: 10})
	for _, o := range []resilience.Outcome{resilience.Success, resilience.Failure, resilience.Success, resilience.Success} {
		call(b, o)
	}
	s := b.Snapshot()
	js, err := json.Marshal([]breaker.Snapshot{s})
	require.NoError(t, err)
	assert.Contains(t, string(js), `"state":"closed"`)
	assert.Contains(t, string(js), `"failure_rate":0.25`)
	var back []breaker.Snapshot
	require.NoError(t, json.Unmarshal(js, &back))
	require.Len(t, back, 1)
	assert.True(t, s.Since.Equal(back[0].Since))
	back[0].Since = s.Since
	assert.Equal(t, s, back[0])
}

func TestSnapshotUnmarshalRefusesBadInput(t *testing.T) {
	for _, in := range []string{
		`{"open_wait":"soon"}`,
		`{"state":"ajar"}`,
		`[1]`,
	} {
		var s breaker.Snapshot
		assert.Error(t, json.Unmarshal([]byte(in), &s), in)
	}
}

func TestSnapshotLogValue(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger.Info("status", "breaker", openSnapshot)
	assert.JSONEq(t, `{"level":"INFO","msg":"status","breaker":{
		"state":"open","generation":3,"successes":90,"failures":12,"ignored":2,"rejected":40,"slow":1,
		"open_wait":"2.5s","until_half_open":"1.5s","reopens":1}}`, buf.String())
}
