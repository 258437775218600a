package resilience_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func jsonLogger(buf *bytes.Buffer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: level}))
}

func records(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		out = append(out, m)
	}
	return out
}

func TestSlogListenerLevelsAndAttributes(t *testing.T) {
	var buf bytes.Buffer
	l := resilience.SlogListener(jsonLogger(&buf, slog.LevelDebug), resilience.SlogOptions{Clock: clock.NewMock()}).Func
	open := errors.New("breaker: circuit open")
	l(resilience.Event{Kind: resilience.EventStateChange, Policy: "breaker", Name: "bank", From: "closed", To: "open",
		Degraded: true, Reason: "failure rate", Detail: map[string]int{"failures": 5}})
	l(resilience.Event{Kind: resilience.EventStateChange, Policy: "breaker", Name: "bank", From: "half-open", To: "closed"})
	l(resilience.Event{Kind: resilience.EventRejection, Policy: "breaker", Name: "bank",
		Err: resilience.Reject("breaker", "bank", open, 2*time.Second)})
	l(resilience.Event{Kind: resilience.EventRetry, Policy: "retry", Attempt: 2, Delay: 100 * time.Millisecond, Err: errors.New("EOF")})
	l(resilience.Event{Kind: resilience.EventTimeout, Policy: "timeout", Delay: time.Second})
	l(resilience.Event{Kind: resilience.EventLimitChange, Policy: "ratelimit", Reason: "rate 10/s"})
	l(resilience.Event{Kind: resilience.EventPanic, Policy: "timeout", Err: errors.New("boom")})
	l(resilience.Event{Kind: resilience.EventOutcome, Policy: "breaker", Outcome: resilience.Failure}) // off by default
	l(resilience.Event{Kind: 0})                                                                       // unknown: skipped

	rs := records(t, &buf)
	require.Len(t, rs, 7)
	want := []struct{ level, msg string }{
		{"WARN", "state change"}, {"INFO", "state change"}, {"DEBUG", "call rejected"}, {"INFO", "retrying"},
		{"INFO", "timeout"}, {"INFO", "limit changed"}, {"ERROR", "panic in abandoned call"},
	}
	for i, w := range want {
		assert.Equal(t, w.level, rs[i]["level"], "record %d", i)
		assert.Equal(t, w.msg, rs[i]["msg"], "record %d", i)
	}
	assert.Equal(t, "open", rs[0]["to"])
	assert.Equal(t, "failure rate", rs[0]["reason"])
	assert.Equal(t, map[string]any{"failures": float64(5)}, rs[0]["snapshot"])
	assert.Equal(t, float64(2*time.Second), rs[2]["retry_after"])
	assert.Equal(t, float64(2), rs[3]["attempt"])
	assert.Equal(t, "EOF", rs[3]["error"])
}

func TestSlogListenerRateLimitsNoisyEventsPerInstance(t *testing.T) {
	var buf bytes.Buffer
	mock := clock.NewMock()
	l := resilience.SlogListener(jsonLogger(&buf, slog.LevelDebug), resilience.SlogOptions{Clock: mock, Burst: 3, Interval: time.Second}).Func
	reject := func(name string) {
		l(resilience.Event{Kind: resilience.EventRejection, Policy: "breaker", Name: name})
	}
	for range 10 {
		reject("bank")
	}
	reject("fx")                                                                                        // another instance has its own allowance
	l(resilience.Event{Kind: resilience.EventStateChange, Policy: "breaker", Name: "bank", To: "open"}) // never limited
	mock.Add(time.Second)
	reject("bank")

	rs := records(t, &buf)
	require.Len(t, rs, 6)
	for i := range 3 {
		assert.Equal(t, "bank", rs[i]["name"])
		assert.NotContains(t, rs[i], "suppressed")
	}
	assert.Equal(t, "fx", rs[3]["name"])
	assert.Equal(t, "state change", rs[4]["msg"])
	assert.Equal(t, float64(7), rs[5]["suppressed"], "the first record after the window says what was dropped")
}

func TestSlogListenerSkipsDisabledLevelsAndLogsOutcomesOnRequest(t *testing.T) {
	var buf bytes.Buffer
	l := resilience.SlogListener(jsonLogger(&buf, slog.LevelInfo), resilience.SlogOptions{LogOutcomes: true}).Func
	l(resilience.Event{Kind: resilience.EventRejection, Policy: "breaker"}) // Debug: disabled
	assert.Empty(t, buf.String())

	buf.Reset()
	l = resilience.SlogListener(jsonLogger(&buf, slog.LevelDebug), resilience.SlogOptions{LogOutcomes: true}).Func
	l(resilience.Event{Kind: resilience.EventOutcome, Policy: "breaker", Outcome: resilience.Success, Duration: time.Millisecond})
	rs := records(t, &buf)
	require.Len(t, rs, 1)
	assert.Equal(t, "success", rs[0]["outcome"])
	assert.Equal(t, float64(time.Millisecond), rs[0]["duration"])

	// A nil logger falls back to slog.Default rather than panicking.
	assert.NotPanics(t, func() {
		resilience.SlogListener(nil, resilience.SlogOptions{}).Func(resilience.Event{Kind: resilience.EventLimitChange})
	})
}

func TestSlogListenerSubscribesByOptions(t *testing.T) {
	all := resilience.AllKinds
	perCall := resilience.KindsOf(resilience.EventOutcome)
	states := resilience.KindsOf(resilience.EventStateChange, resilience.EventLimitChange)
	tests := []struct {
		name string
		opts resilience.SlogOptions
		want resilience.Kinds
	}{
		{"default: all but outcomes", resilience.SlogOptions{}, all &^ perCall},
		{"with outcomes", resilience.SlogOptions{LogOutcomes: true}, all},
		{"state changes only", resilience.SlogOptions{StateChangesOnly: true}, states},
		{"state changes only wins over outcomes", resilience.SlogOptions{StateChangesOnly: true, LogOutcomes: true}, states},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := resilience.SlogListener(slog.New(slog.DiscardHandler), tt.opts)
			assert.Equal(t, tt.want, l.Kinds)
			d := resilience.NewDispatcher(resilience.Listeners{l})
			assert.Equal(t, tt.want.Has(resilience.EventOutcome), d.Wants(resilience.EventOutcome))
			assert.Equal(t, tt.want.Has(resilience.EventRejection), d.Wants(resilience.EventRejection))
			assert.True(t, d.Wants(resilience.EventStateChange))
		})
	}
}

// Through a dispatcher, a state-changes-only listener logs the state
// change and never sees the rejection.
func TestSlogListenerStateChangesOnlyLogsNoCalls(t *testing.T) {
	var buf bytes.Buffer
	l := resilience.SlogListener(jsonLogger(&buf, slog.LevelDebug), resilience.SlogOptions{StateChangesOnly: true})
	d := resilience.NewDispatcher(resilience.Listeners{l})
	d.Emit(resilience.Event{Kind: resilience.EventRejection, Policy: "breaker", Name: "bank"})
	d.Emit(resilience.Event{Kind: resilience.EventStateChange, Policy: "breaker", Name: "bank", From: "closed", To: "open"})
	rs := records(t, &buf)
	require.Len(t, rs, 1)
	assert.Equal(t, "state change", rs[0]["msg"])
}
