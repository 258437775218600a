package backoff_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/backoff"
)

func TestBudgetSnapshotJSON(t *testing.T) {
	s := backoff.BudgetSnapshot{Requests: 120, Retries: 7, Refusals: 2, Available: 117, Window: 2500 * time.Millisecond}
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{"requests":120,"retries":7,"refusals":2,"available":117,"window":"2.5s","window_seconds":2.5}`, string(b))

	var back backoff.BudgetSnapshot
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, s, back, "round trip")
	assert.Error(t, json.Unmarshal([]byte(`{"window":"a while"}`), &back))
	assert.Error(t, json.Unmarshal([]byte(`[]`), &back))
}

func TestRetrySnapshotJSON(t *testing.T) {
	s := backoff.RetrySnapshot{Name: "bank", Retries: 12, Exhausted: 2, SuccessfulWithoutRetry: 90,
		SuccessfulWithRetry: 5, FailedWithoutRetry: 3, FailedWithRetry: 2}
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"bank","retries":12,"exhausted":2,"successful_without_retry":90,
		"successful_with_retry":5,"failed_without_retry":3,"failed_with_retry":2}`, string(b))
	var back backoff.RetrySnapshot
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, s, back)
}

func TestSnapshotsLogWell(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	logger.Info("retry",
		"budget", backoff.BudgetSnapshot{Requests: 3, Available: 100, Window: time.Second},
		"retry", backoff.RetrySnapshot{Name: "bank", Retries: 1})
	assert.JSONEq(t, `{"level":"INFO","msg":"retry",
		"budget":{"requests":3,"retries":0,"refusals":0,"available":100,"window":"1s"},
		"retry":{"name":"bank","retries":1,"exhausted":0,"successful_without_retry":0,"successful_with_retry":0,
		"failed_without_retry":0,"failed_with_retry":0}}`, out.String())
}
