package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/gateway"
)

// testScenario is a short drill: every kind of fault, each long enough
// that the health checks (probing twice a second) see it, at a rate light
// enough for the race detector on a small machine.
func testScenario() Scenario {
	return Scenario{Name: "test", Description: "short drill for the tests", Duration: 6 * time.Second, Rate: 80,
		Noise: map[string]Noise{"bank": {LostReplyBP: 200, Latency: time.Millisecond}},
		Faults: []Fault{
			{Service: "bank", Kind: KindHang, Start: 500 * time.Millisecond, End: 3500 * time.Millisecond},
			{Service: "fx", Kind: KindSlowdown, Start: 3500 * time.Millisecond, End: 4500 * time.Millisecond, Extra: time.Second},
			{Service: "log", Kind: KindOutage, Start: 4 * time.Second, End: 5 * time.Second},
		}}
}

// testConfig is a run of sc with logs and progress in the buffers, on the
// gateway's in-memory store.
func testConfig(sc Scenario, concurrency int, logs, progress *bytes.Buffer) runConfig {
	return runConfig{scenario: sc, seed: 3, concurrency: concurrency, logger: slog.New(slog.NewTextHandler(logs, nil)),
		progress: newPrinter(progress, false)}
}

// onSQLite puts cfg's store in a new SQLite file, as the command does, in
// a directory the test removes.
func onSQLite(t *testing.T, cfg runConfig) runConfig {
	t.Helper()
	open, name, cleanup, err := sqliteStore(filepath.Join(t.TempDir(), "drill.db"))
	require.NoError(t, err)
	t.Cleanup(cleanup)
	cfg.store, cfg.storeName = open, name
	return cfg
}

// The whole drill over loopback, in real time: nothing here depends on how
// fast the machine is, only on what the policies guarantee. It runs on the
// in-memory store, which the race detector slows far less than SQLite's;
// TestDrillOnSQLite runs the command's default store.
func TestDrillProtectedRunKeepsInvariantsAndSparesTheDeadBank(t *testing.T) {
	var logs, progress bytes.Buffer
	// Two seconds after the last fault for every breaker to close: under
	// the race detector on a loaded machine a recovery can take a second
	// or more (a failed probe grows the open wait), and the end of this
	// test asserts every breaker closed.
	sc := testScenario()
	sc.Duration = 7 * time.Second
	cfg := testConfig(sc, 40, &logs, &progress)
	rep, err := drill(context.Background(), cfg, true, newPrinter(io.Discard, false))
	require.NoError(t, err)
	require.Len(t, rep.results, 2)
	plain, prot := rep.results[0], rep.results[1]
	require.False(t, plain.protected)
	require.True(t, prot.protected)

	assertSafe(t, prot)
	n := len(workload(cfg.scenario, cfg.seed))
	for _, r := range rep.results {
		require.Len(t, r.payments, n, r.label)
		for i, p := range r.payments {
			require.NotEmpty(t, p.first, "%s: payment %d unanswered", r.label, i)
		}
	}
	// The bank hang is the first fault; count the transfers (not the
	// health probes) each run sent into it.
	plainCalls, protCalls := plain.calls["bank"].InWindow[0], prot.calls["bank"].InWindow[0]
	assert.Less(t, protCalls.Calls-protCalls.Probes, plainCalls.Calls,
		"the protected run sends fewer calls to the dead bank (%+v vs %+v)", protCalls, plainCalls)
	assert.Zero(t, plainCalls.Probes, "the unprotected run has no health checks")

	last := prot.samples[len(prot.samples)-1]
	assert.Equal(t, map[string]string{"bank": "closed", "bank-status": "closed", "fx": "closed", "log": "closed"}, last.breakers)
	assert.Zero(t, last.outbox)
	assert.Zero(t, last.pending)
	bankOpened := false
	for _, c := range prot.changes {
		bankOpened = bankOpened || c.name == "bank" && c.from == "closed"
	}
	assert.True(t, bankOpened, "the bank's breaker opened during the hang")
	assert.Contains(t, logs.String(), `msg="state change" run=protected policy=breaker name=bank from=closed`)
	assert.Contains(t, logs.String(), `msg="scenario: fault begins" run=unprotected service=bank kind=hang`)
	assert.Regexp(t, `\[protected +1\.\ds/7s\] +\d+ pay/s  in flight \d+ +ok \d+ +declined \d+ +rejected \d+ +pending \d+ +\| bank=\w+ +fx=\w+ +log=\w+ *\| outbox \d+\n`,
		progress.String(), "one progress line per second")
	assert.Regexp(t, `\[unprotected +1\.\ds/7s\] .* unknown \d+ +\| no breakers, no outbox\n`, progress.String())
	assert.NotRegexp(t, `([7-9]|\d\d)\.\ds/7s\]`, progress.String(), "past its end a run is draining, never 8.0s/7s")

	// Without reconciliation or an outbox, the unprotected run cannot keep
	// these; with 200bp of lost replies and a log outage it never does.
	assert.False(t, plain.passed())

	var text bytes.Buffer
	rep.write(&text)
	assert.Contains(t, text.String(), "PASS  debits match answers")
	assert.Contains(t, text.String(), "bank hang 0.5s–3.5s")
	assert.Contains(t, text.String(), "the gateway's store: in memory")
	// The tail check compares latencies measured in real time on a shared
	// machine: its verdict is the drill's to print, not this test's to
	// assert (TestTailCheck proves it can fail and pass).
	require.Len(t, rep.checks, 1, "the tail check")
	t.Logf("tail check: %s (%s)", passFail(rep.checks[0].ok), rep.checks[0].detail)

	var page bytes.Buffer
	writeHTML(&page, rep)
	assertWellFormedReport(t, page.Bytes())
}

// The command's default store: a short protected run on SQLite, with a
// bank hang that leaves payments pending for the reconciler to settle
// through it. Light, because the race detector slows the pure-Go SQLite a
// lot.
func TestDrillOnSQLiteKeepsInvariants(t *testing.T) {
	// The hang lasts most of the run: on a loaded machine the first
	// payments can leave late, and a payment must meet the hang.
	sc := Scenario{Name: "sqlite", Description: "a bank hang on SQLite", Duration: 3 * time.Second, Rate: 5,
		Faults: []Fault{{Service: "bank", Kind: KindHang, Start: 0, End: 2 * time.Second}}}
	var logs, progress bytes.Buffer
	cfg := onSQLite(t, testConfig(sc, 10, &logs, &progress))
	rep, err := drill(context.Background(), cfg, false, newPrinter(io.Discard, false))
	require.NoError(t, err)
	require.Len(t, rep.results, 1)
	prot := rep.results[0]
	assertSafe(t, prot)
	assert.Positive(t, summarize(prot).reconciled, "the hang left payments pending, settled by the reconciler")
	assert.Empty(t, rep.checks, "no baseline, no comparison")
	var text bytes.Buffer
	rep.write(&text)
	assert.Contains(t, text.String(), "the gateway's store: "+cfg.storeName)
}

// assertSafe asserts every invariant of r but the held-down check, which
// judges "answers in time" by the clock: on a loaded machine under the
// race detector a healthy dependency can miss a 250ms timeout.
// TestSlowBankIsNeverHeldDown asserts it with room to spare.
func assertSafe(t *testing.T, r *runResult) {
	t.Helper()
	for _, inv := range r.invariants {
		if inv.name == heldDown(r).name {
			t.Logf("%s: %s (%s)", passFail(inv.ok), inv.name, inv.detail)
			continue
		}
		assert.True(t, inv.ok, "%s: %s", inv.name, inv.detail)
	}
}

// assertWellFormedReport parses the page as strict XML and checks it holds
// one breaker timeline per dependency and links nothing outside itself.
func assertWellFormedReport(t *testing.T, page []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(page))
	dec.Strict = true
	timelines := map[string]int{}
	charts := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "the HTML report must parse as XML")
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		for _, a := range el.Attr {
			switch {
			case a.Name.Local == "class" && a.Value == "timeline" && el.Name.Local == "g":
				timelines[idOf(el)]++
			case a.Name.Local == "class" && a.Value == "chart":
				charts++
			case a.Name.Local == "href" || a.Name.Local == "src":
				t.Errorf("the report must be self-contained, found %s=%q", a.Name.Local, a.Value)
			}
		}
	}
	for _, name := range []string{"bank", "fx", "log"} {
		assert.Equal(t, 1, timelines["timeline-"+name], "one timeline for the %s breaker", name)
	}
	for id, n := range timelines {
		assert.Equal(t, 1, n, id)
		assert.Regexp(t, `^timeline-(bank|fx|log|bank-status)$`, id, "a dependency's breaker, or the status lookups' when it changed")
	}
	assert.Equal(t, 2, charts, "throughput and outbox charts (the outcome charts are classed apart)")
}

func idOf(el xml.StartElement) string {
	for _, a := range el.Attr {
		if a.Name.Local == "id" {
			return a.Value
		}
	}
	return ""
}

func TestRunRefusesBadFlagsAndScenarios(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"duration": "5s", "rate": 10, "faults": [{"service": "bank"}]}`), 0o644))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-concurrency", "0"}, "-concurrency must be in [1, 10000], got 0"},
		{[]string{"-duration", "-1s"}, "-duration must not be negative, got -1s"},
		{[]string{"-duration", "1ms"}, "-duration must be 0 (the scenario's) or in [1s, 1h0m0s], got 1ms"},
		{[]string{"-duration", "500h"}, "-duration must be 0 (the scenario's) or in [1s, 1h0m0s], got 500h0m0s"},
		{[]string{"-scenario", "drill", "-duration", "1s", "-store", bad}, "-store " + bad + ": the drill needs a new file"},
		{[]string{"extra"}, `unexpected arguments ["extra"]`},
		{[]string{"-scenario", bad}, bad + `: line 1, column 43: faults[0].start: want a duration such as "2.5s", got ""`},
		{[]string{"-scenario", "nope"}, `scenario "nope" is neither a built-in`},
	} {
		err := run(context.Background(), io.Discard, io.Discard, tc.args)
		require.Error(t, err, strings.Join(tc.args, " "))
		assert.Contains(t, err.Error(), tc.want)
	}
}

func TestPercentilesUseNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, percentiles{n: 100, p50: 50 * time.Millisecond, p95: 95 * time.Millisecond, p99: 99 * time.Millisecond}, percentilesOf(ds))
	assert.Equal(t, percentiles{n: 1, p50: time.Second, p95: time.Second, p99: time.Second}, percentilesOf([]time.Duration{time.Second}))
	assert.Equal(t, percentiles{}, percentilesOf(nil))
}

func TestRecoveryIsMeasuredFromTheWindowsEnd(t *testing.T) {
	f := Fault{Service: "bank", Kind: KindOutage, Start: time.Second, End: 3 * time.Second}
	changes := []stateChange{
		{t: 500 * time.Millisecond, name: "fx", from: "closed", to: "open"},
		{t: 1200 * time.Millisecond, name: "bank", from: "closed", to: "open"},
		{t: 3100 * time.Millisecond, name: "bank", from: "open", to: "half_open"},
		{t: 3150 * time.Millisecond, name: "bank", from: "half_open", to: "closed"},
		{t: 5 * time.Second, name: "bank", from: "closed", to: "open"},
	}
	assert.Equal(t, recovery{fault: f, opened: true, closed: true, after: 150 * time.Millisecond}, recoveryOf(changes, f))
	assert.Equal(t, recovery{fault: f, opened: true}, recoveryOf(changes[:3], f), "still half-open")
	assert.Equal(t, recovery{fault: f}, recoveryOf(changes[:1], f), "the bank's breaker never left closed")
}

func TestSummaryCountsFinalStatesAndReconciliation(t *testing.T) {
	r := &runResult{label: "protected", protected: true, scenario: testScenario(), traffic: 2 * time.Second,
		payments: []paymentRecord{
			{at: 0, latency: time.Millisecond, first: gateway.Succeeded, final: gateway.Succeeded, lookup: true},
			{at: time.Second, latency: 500 * time.Millisecond, first: gateway.Pending, final: gateway.Succeeded, lookup: true},
			{at: time.Second, latency: 2 * time.Millisecond, first: gateway.Rejected, final: gateway.Rejected, lookup: true},
			{at: 2 * time.Second, latency: 3 * time.Millisecond, first: gateway.Declined, final: gateway.Declined, lookup: true},
		}}
	s := summarize(r)
	assert.Equal(t, map[gateway.State]int{gateway.Succeeded: 2, gateway.Rejected: 1, gateway.Declined: 1}, s.final)
	assert.Equal(t, 1, s.reconciled)
	assert.InDelta(t, 2.0, s.perSecond, 1e-9)
	assert.Equal(t, 2, s.byState[gateway.Succeeded].n)
	require.Len(t, s.faults, 3)
	assert.Equal(t, 3, s.faults[0].latency.n, "three payments were due during the bank hang")
	assert.Equal(t, 500*time.Millisecond, s.faults[0].latency.p99)
}

// A report built from recorded figures, no network: the page escapes what
// it prints and still parses, with one timeline per dependency.
func TestHTMLReportFromRecordedRun(t *testing.T) {
	sc := testScenario()
	sc.Description = `<script>alert("x")</script> & more`
	prot := &runResult{label: "protected", protected: true, scenario: sc, traffic: sc.Duration,
		samples: []sample{
			{t: 0, breakers: map[string]string{"bank": "closed"}},
			{t: time.Second, answered: [5]int{50, 2, 0, 0, 0}, outbox: 3},
			{t: 2 * time.Second, answered: [5]int{60, 3, 40, 5, 0}, outbox: 0},
		},
		changes: []stateChange{
			{t: 700 * time.Millisecond, name: "bank", from: "closed", to: "open"},
			{t: 1200 * time.Millisecond, name: "bank", from: "open", to: "held_open"},
			{t: 3600 * time.Millisecond, name: "bank", from: "held_open", to: "half_open"},
			{t: 3610 * time.Millisecond, name: "bank", from: "half_open", to: "closed"},
		}}
	plain := &runResult{label: "unprotected", scenario: sc, traffic: sc.Duration, samples: prot.samples[1:]}
	var page bytes.Buffer
	writeHTML(&page, newReport(sc, 1, 10, plain, prot))
	assertWellFormedReport(t, page.Bytes())
	assert.NotContains(t, page.String(), "<script>")
	assert.Contains(t, page.String(), "&lt;script&gt;")
	assert.Contains(t, page.String(), "<title>held_open from 1.2s to 3.6s</title>")
}
