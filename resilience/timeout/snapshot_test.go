package timeout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/timeout"
)

func TestSnapshotJSON(t *testing.T) {
	s := timeout.Snapshot{Name: "fx", Mode: timeout.Abandon, Timeout: 2500 * time.Millisecond, Timeouts: 3, Abandoned: 1, Panics: 2}
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"fx","mode":"abandon","timeout":"2.5s","timeout_seconds":2.5,"timeouts":3,"abandoned":1,"panics":2}`, string(b))

	var back timeout.Snapshot
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, s, back, "round trip")
}

func TestSnapshotUnmarshalRefusesBadInput(t *testing.T) {
	for _, in := range []string{`{"timeout":"soon"}`, `{"mode":"eager"}`, `[]`} {
		var s timeout.Snapshot
		assert.Error(t, json.Unmarshal([]byte(in), &s), in)
	}
}

func TestSnapshotLogValue(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	logger.Info("timeout", "snapshot", timeout.Snapshot{Name: "fx", Timeout: time.Second, Timeouts: 4})
	assert.JSONEq(t, `{"level":"INFO","msg":"timeout","snapshot":{"name":"fx","mode":"cooperative","timeout":"1s","timeouts":4,"abandoned":0,"panics":0}}`, out.String())
}

func TestSnapshotCountsTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		to := newTimeout(t, timeout.Config{Timeout: time.Second, Name: "fx"})
		for range 3 {
			_, err := resilience.Execute(context.Background(), waitCtx, to)
			require.ErrorIs(t, err, timeout.ErrTimeout)
		}
		_, err := resilience.Execute(context.Background(), func(context.Context) (int, error) { return 1, nil }, to)
		require.NoError(t, err)
		assert.Equal(t, timeout.Snapshot{Name: "fx", Timeout: time.Second, Timeouts: 3}, to.Snapshot())
	})
}
