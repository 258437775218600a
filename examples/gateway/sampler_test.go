package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 17: past the scenario's end a run is draining, and says so
// instead of counting past its total.
func TestProgressLineSaysDrainingPastTheEnd(t *testing.T) {
	s := &sampler{r: &runResult{label: "protected", scenario: Scenario{Duration: 12 * time.Second}}}
	prev := sample{t: 2 * time.Second, answered: [5]int{100}}
	cur := sample{t: 3 * time.Second, answered: [5]int{400, 10, 5}, inFlight: 7}
	assert.Equal(t, "[unprotected   3.0s/12s]  315 pay/s  in flight 7    ok 400   declined 10   rejected 5     unknown 0    | no breakers, no outbox",
		func() string { s.r.label = "unprotected"; return s.line(prev, cur).text() }())

	s.r.label = "protected"
	s.gw = nil
	late := sample{t: 15 * time.Second, answered: [5]int{400, 10, 5}}
	l := s.line(cur, late)
	assert.Equal(t, "draining", l.Phase)
	assert.Regexp(t, `^\[protected +draining \+3\.0s\]    0 pay/s`, l.text())
	assert.NotContains(t, l.text(), "15.0s/12s")

	at := s.line(prev, sample{t: 12 * time.Second})
	assert.Equal(t, "draining", at.Phase, "at the end, no payment is due any more")
}

// With riprap the line carries pending payments, breakers and the outbox;
// its JSON form has the same figures.
func TestProgressLineWithRiprapAndAsJSON(t *testing.T) {
	pending, outbox := 3, 9
	l := progressLine{Type: "progress", Run: "protected", Phase: "traffic", Seconds: 4, Total: 12, PerSecond: 299.6,
		InFlight: 12, Succeeded: 1000, Pending: &pending, Outbox: &outbox,
		Breakers: map[string]string{"bank": "held_open", "fx": "closed", "log": "half_open"}}
	assert.Equal(t, "[protected     4.0s/12s]  300 pay/s  in flight 12   ok 1000  declined 0    rejected 0     pending 3    | bank=held_open   fx=closed      log=half_open  | outbox 9",
		l.text())
	var out bytes.Buffer
	newPrinter(&out, true).line(l.text(), l)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &rec))
	assert.Equal(t, map[string]any{"type": "progress", "run": "protected", "phase": "traffic", "t_seconds": 4.0,
		"duration_seconds": 12.0, "pay_per_second": 299.6, "in_flight": 12.0, "succeeded": 1000.0, "declined": 0.0,
		"rejected": 0.0, "pending": 3.0, "outbox": 9.0,
		"breakers": map[string]any{"bank": "held_open", "fx": "closed", "log": "half_open"}}, rec)
}
