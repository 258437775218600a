package chaos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/chaos"
)

func TestSnapshotJSON(t *testing.T) {
	fault, err := chaos.Fault(errReset, chaos.Config{Name: "bank outage", Rate: 0.5, Seed: 1, On: true})
	require.NoError(t, err)
	for range 4 {
		_ = resilience.Run(context.Background(), func(context.Context) error { return nil }, fault)
	}
	b, err := json.Marshal(fault.Snapshot())
	require.NoError(t, err)
	assert.JSONEq(t, `{"name": "bank outage", "kind": "fault", "on": true, "rate": 0.5, "injected": 1, "passed": 3}`, string(b))

	slow, err := chaos.Latency(250*time.Millisecond, chaos.Config{Name: "slow bank"})
	require.NoError(t, err)
	b, err = json.Marshal(slow.Snapshot())
	require.NoError(t, err)
	assert.JSONEq(t, `{"name": "slow bank", "kind": "latency", "on": false, "rate": 1, "injected": 0, "passed": 0,
		"latency": "250ms", "latency_seconds": 0.25}`, string(b))
}

func TestSnapshotLogValue(t *testing.T) {
	slow, err := chaos.Latency(time.Second, chaos.Config{Name: "slow bank", On: true})
	require.NoError(t, err)
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("chaos", "snapshot", slow.Snapshot())
	assert.Contains(t, buf.String(),
		"snapshot.name=\"slow bank\" snapshot.kind=latency snapshot.on=true snapshot.rate=1 snapshot.injected=0 snapshot.passed=0 snapshot.latency=1s")
}
