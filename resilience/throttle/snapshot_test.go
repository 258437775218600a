package throttle_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/throttle"
)

func TestSnapshotJSON(t *testing.T) {
	thr, _ := newThrottle(t, throttle.Config{Name: "bank", Window: 30 * time.Second, Buckets: 3})
	feed(t, thr, resilience.Success, resilience.Failure, resilience.Failure, resilience.Failure, resilience.Ignored)
	b, err := json.Marshal(thr.Snapshot())
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"name": "bank", "requests": 4, "accepts": 1, "rejection_probability": 0.4, "k": 2,
		"window": "30s", "window_seconds": 30,
		"admitted": 5, "throttled": 0, "successes": 1, "failures": 3, "ignored": 1
	}`, string(b))
}

func TestSnapshotLogValue(t *testing.T) {
	thr, _ := newThrottle(t, throttle.Config{Name: "bank"})
	feed(t, thr, resilience.Failure)
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("throttle", "snapshot", thr.Snapshot())
	assert.Contains(t, buf.String(), "snapshot.name=bank snapshot.requests=1 snapshot.accepts=0 snapshot.rejection_probability=0.5")
	assert.Contains(t, buf.String(), "snapshot.window=10s")
}
