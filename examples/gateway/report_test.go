package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/gateway"
)

// recordedReport is a report built from figures, no network: the
// protected run is slower in the bank hang than the baseline.
func recordedReport() *report {
	sc := testScenario()
	mk := func(protected bool, hangLatency time.Duration) *runResult {
		r := &runResult{label: runLabel(protected, false), protected: protected, scenario: sc, traffic: sc.Duration,
			invariants: []invariant{{name: "none lost: x", ok: true}, {name: "never held down: y", ok: true, na: !protected}}}
		r.payments = []paymentRecord{
			{at: 0, latency: 5 * time.Millisecond, first: gateway.Succeeded, final: gateway.Succeeded, lookup: true},
			{at: time.Second, latency: hangLatency, first: gateway.Rejected, final: gateway.Rejected, lookup: true},
		}
		return r
	}
	rep := newReport(sc, 7, 40, mk(false, 508*time.Millisecond), mk(true, 1050*time.Millisecond))
	rep.store = "SQLite, temporary"
	return rep
}

func TestReportTextShowsTheTailCheckAndNotApplicableChecks(t *testing.T) {
	var text bytes.Buffer
	recordedReport().write(&text)
	s := text.String()
	assert.Contains(t, s, "the gateway's store: SQLite, temporary")
	assert.Contains(t, s, "bank hang 0.5s–3.5s")
	assert.Regexp(t, `latency p50 / p95 / p99\| +508ms / 508ms / 508ms\| +1.05s / 1.05s / 1.05s\|`, s)
	assert.Regexp(t, `never held down\| +–\| +PASS\|`, s, "a check that does not apply shows a dash")
	assert.Contains(t, s, "with riprap against without protection:\n  FAIL  tail: protected p99 no worse than unprotected in every fault window (at most +5% +10ms)\n"+
		"        bank hang 0.5s–3.5s: 1.05s vs 508ms WORSE")
	assert.Contains(t, s, "\nFAIL: the protected run broke an invariant or failed a check (see above)\n")
}

// Issue 17: -json prints the report as one JSON object.
func TestReportAsJSON(t *testing.T) {
	var out bytes.Buffer
	recordedReport().print(newPrinter(&out, true))
	require.Equal(t, 1, bytes.Count(out.Bytes(), []byte("\n")), "one line")
	var j jsonReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &j))
	assert.Equal(t, "report", j.Type)
	assert.Equal(t, "test", j.Scenario)
	assert.Equal(t, "SQLite, temporary", j.Store)
	assert.False(t, j.Passed)
	require.Len(t, j.Runs, 2)
	assert.Equal(t, "unprotected", j.Runs[0].Run)
	assert.Equal(t, map[string]int{"succeeded": 1, "declined": 0, "rejected": 1, "unknown": 0}, j.Runs[0].Final)
	assert.Equal(t, map[string]int{"succeeded": 1, "declined": 0, "rejected": 1, "pending_reconciliation": 0}, j.Runs[1].Final)
	assert.True(t, j.Runs[0].Invariants[1].NA)
	require.Len(t, j.Windows, 3)
	w := j.Windows[0]
	assert.Equal(t, "bank", w.Service)
	assert.InDelta(t, 0.5, w.Start, 1e-9)
	require.Len(t, w.Runs, 2)
	assert.InDelta(t, 508.0, w.Runs[0].Latency.P99ms, 1e-9)
	assert.InDelta(t, 1050.0, w.Runs[1].Latency.P99ms, 1e-9)
	assert.Empty(t, w.Runs[0].Recovery, "no breakers without riprap")
	assert.Equal(t, "never opened", w.Runs[1].Recovery)
	require.Len(t, j.Checks, 1)
	assert.False(t, j.Checks[0].OK)
	assert.Contains(t, j.Checks[0].Detail, "bank hang 0.5s–3.5s: 1.05s vs 508ms WORSE")
}
