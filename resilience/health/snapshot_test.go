package health_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snapshotAfterOneSlowFailure probes once, failing after 150ms on a mock
// clock set to a fixed UTC instant.
func snapshotAfterOneSlowFailure(t *testing.T) health.TargetSnapshot {
	t.Helper()
	mock := clock.NewMock()
	mock.Set(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	c, err := health.New(health.Config{Interval: time.Minute, FailuresToUnhealthy: 1, Clock: mock},
		health.Target{Name: "bank", Critical: true, Probe: func(context.Context) error {
			mock.Add(150 * time.Millisecond)
			return errDown
		}})
	require.NoError(t, err)
	_, err = c.Probe(context.Background(), "bank")
	require.NoError(t, err)
	return c.Snapshot()[0]
}

func TestTargetSnapshotJSON(t *testing.T) {
	b, err := json.Marshal(snapshotAfterOneSlowFailure(t))
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"name": "bank",
		"critical": true,
		"status": "unhealthy",
		"since": "2025-03-01T12:00:00.15Z",
		"consecutive_failures": 1,
		"consecutive_successes": 0,
		"probes": 1,
		"failures": 1,
		"last_probe": "2025-03-01T12:00:00.15Z",
		"last_probe_duration": "150ms",
		"last_probe_duration_seconds": 0.15,
		"last_error": "bank: connection refused",
		"probe_timeout": "30s",
		"probe_timeout_seconds": 30
	}`, string(b))

	fresh, err := json.Marshal(health.TargetSnapshot{Name: "fx", ProbeTimeout: time.Second})
	require.NoError(t, err)
	assert.JSONEq(t, `{"name": "fx", "critical": false, "status": "unknown", "consecutive_failures": 0,
		"consecutive_successes": 0, "probes": 0, "failures": 0, "last_probe_duration": "0s",
		"last_probe_duration_seconds": 0, "probe_timeout": "1s",
		"probe_timeout_seconds": 1}`, string(fresh), "times that never happened are left out")
}

func TestTargetSnapshotJSONRoundTrip(t *testing.T) {
	want := snapshotAfterOneSlowFailure(t)
	want.NextProbe = want.LastProbe.Add(time.Minute)
	b, err := json.Marshal(want)
	require.NoError(t, err)
	var got health.TargetSnapshot
	require.NoError(t, json.Unmarshal(b, &got))
	assert.True(t, want.Since.Equal(got.Since))
	assert.True(t, want.NextProbe.Equal(got.NextProbe))
	got.Since, got.LastProbe, got.NextProbe = want.Since, want.LastProbe, want.NextProbe
	assert.Equal(t, want, got)

	assert.ErrorContains(t, json.Unmarshal([]byte(`{"probe_timeout": "soon"}`), &got), "health: probe_timeout")
	assert.ErrorContains(t, json.Unmarshal([]byte(`{"status": "sick"}`), &got), `health: unknown status "sick"`)
}

func TestTargetSnapshotLogValue(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	logger.Info("probe", "target", snapshotAfterOneSlowFailure(t))
	assert.Equal(t, `level=INFO msg=probe target.name=bank target.status=unhealthy target.critical=true `+
		`target.consecutive_failures=1 target.consecutive_successes=0 target.probes=1 target.failures=1 `+
		`target.last_probe_duration=150ms target.probe_timeout=30s target.last_error="bank: connection refused"`+"\n", buf.String())
}

func TestStatusTextRoundTrip(t *testing.T) {
	for _, st := range []health.Status{health.Unknown, health.Healthy, health.Unhealthy} {
		b, err := st.MarshalText()
		require.NoError(t, err)
		var got health.Status
		require.NoError(t, got.UnmarshalText(b))
		assert.Equal(t, st, got)
	}
	var st health.Status
	assert.EqualError(t, st.UnmarshalText([]byte("sick")), `health: unknown status "sick"`)
}
