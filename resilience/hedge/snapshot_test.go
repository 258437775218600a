package hedge_test

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

	"github.com/riprap-go/riprap/resilience/hedge"
)

func TestSnapshotJSON(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &budget{}
		h := newHedger(t, hedge.Config{Name: "status", Delay: 25 * time.Millisecond, Quantile: 0.95, Budget: b})
		s := newScript(step{Delay: 50 * time.Millisecond})
		_, _, err := execute(context.Background(), h, s)
		require.NoError(t, err)
		out, err := json.Marshal(h.Snapshot())
		require.NoError(t, err)
		assert.JSONEq(t, `{"name": "status", "calls": 1, "hedges": 0, "hedge_wins": 0, "budget_refusals": 1,
			"delay": "25ms", "delay_seconds": 0.025, "quantile": 0.95, "samples": 1}`, string(out))
	})
}

func TestSnapshotLogValue(t *testing.T) {
	h := newHedger(t, hedge.Config{Name: "status", Delay: time.Second})
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("hedge", "snapshot", h.Snapshot())
	assert.Contains(t, buf.String(), "snapshot.name=status snapshot.calls=0 snapshot.hedges=0 snapshot.hedge_wins=0 snapshot.budget_refusals=0 snapshot.delay=1s")
}
