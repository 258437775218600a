package sqlitestore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGatewayCrash runs the gateway in a child process and kills it with
// SIGKILL at random moments while payers retry with their idempotency keys
// and the log fails 30% of appends — all of them for a fifth of the run, so
// that the outbox fills and payments are refused before the bank. After
// the last restart and a drain, the bank's and the log's own records are
// checked (see checkCrashRun).
func TestGatewayCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a hundred processes")
	}
	bin := childBinary(t)

	t.Run("the SQLite store loses nothing", func(t *testing.T) {
		h := newHarness(t, bin, crashConfig{Seed: 14, Kills: 100, Workers: 16, MaxOutbox: 64})
		r := h.run()
		v := checkCrashRun(r)
		t.Logf("%s; bank debits %d; log %+v", &h.figures, len(r.Transfers), h.svc.Log.Stats())

		require.True(t, v.ok(), "%s\nchildren's log:\n%s", v, logTail(h.logPath, 4000))
		assert.GreaterOrEqual(t, h.figures.Kills.Load(), int64(100))
		assert.Positive(t, h.figures.StoreFull.Load(), "the full outbox refused payments before the bank")
		assert.NotEmpty(t, r.Acked, "payments succeeded")
	})

	// The same run against a gateway whose store is in memory, forgotten at
	// each kill, must fail the check: the harness tells a gateway that
	// loses payments from one that does not.
	t.Run("the check catches a store forgotten at each kill", func(t *testing.T) {
		h := newHarness(t, bin, crashConfig{Seed: 15, Kills: 10, Workers: 8, MaxOutbox: 64, Memory: true})
		v := checkCrashRun(h.run())
		t.Logf("%s\n%s", &h.figures, v)

		assert.False(t, v.ok())
		assert.NotEmpty(t, v.Lost, "payments the bank debited that the restarted gateway forgot")
	})
}
