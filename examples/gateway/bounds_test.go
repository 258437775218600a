package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/sim"
)

// Issue 12, item 7: every field of a scenario file has bounds, and a value
// out of them is refused with an error naming the field — never a panic.
// The first two once panicked: a division by zero, and a workload slice
// of a length out of range.
func TestScenarioBoundsNameTheField(t *testing.T) {
	base := `"duration": "10s", "rate": 5`
	for _, tc := range []struct {
		name, file, want string
	}{
		{"duration under a millisecond", `{"duration": "500us", "rate": 5}`, "duration: must be in [1s, 1h0m0s], got 500µs"},
		{"duration of hundreds of hours", `{"duration": "500h", "rate": 5}`, "duration: must be in [1s, 1h0m0s], got 500h0m0s"},
		{"negative duration", `{"duration": "-1s", "rate": 5}`, "duration: must be in [1s, 1h0m0s], got -1s"},
		{"rate too high", `{"duration": "10s", "rate": 10001}`, "rate: must be in [1, 10000] payments per second, got 10001"},
		{"negative rate", `{"duration": "10s", "rate": -3}`, "rate: must be in [1, 10000] payments per second, got -3"},
		{"too many payments", `{"duration": "1h", "rate": 10000}`, "rate: times duration must be at most 1000000 payments, got 10000/s for 1h0m0s (36000000 payments)"},
		{"name too long", `{"name": "` + strings.Repeat("n", 65) + `", ` + base + `}`, "name: must be at most 64 bytes, got 65"},
		{"control character in the name", `{"name": "a\u001b[2Jb", ` + base + `}`, `name: must hold printable characters only, got '\x1b'`},
		{"description too long", `{"description": "` + strings.Repeat("d", 301) + `", ` + base + `}`, "description: must be at most 300 bytes, got 301"},
		{"window under a millisecond", `{` + base + `, "faults": [{"service": "bank", "kind": "hang", "start": "1s", "end": "1.0005s"}]}`,
			"faults[0]: must last at least 1ms, got 500µs"},
		{"negative start", `{` + base + `, "faults": [{"service": "bank", "kind": "hang", "start": "-1s", "end": "1s"}]}`,
			"faults[0]: want 0 <= start < end <= duration (10s), got start -1s, end 1s"},
		{"slowdown of hours", `{` + base + `, "faults": [{"service": "fx", "kind": "slowdown", "start": "1s", "end": "2s", "extra": "300h"}]}`,
			"faults[0].extra: must be in [1ms, 10m0s] for a slowdown, got 300h0m0s"},
		{"extra on an outage", `{` + base + `, "faults": [{"service": "fx", "kind": "outage", "start": "1s", "end": "2s", "extra": "1s"}]}`,
			"faults[0].extra: applies to a slowdown only, got 1s for a outage"},
		{"too many faults", `{` + base + `, "faults": [` + strings.TrimSuffix(strings.Repeat(`{"service": "fx", "kind": "outage", "start": "1s", "end": "2s"},`, 101), ",") + `]}`,
			"faults: must hold at most 100 windows, got 101"},
		{"negative lost replies", `{` + base + `, "noise": {"bank": {"lost_reply_bp": -1}}}`, "noise.bank.lost_reply_bp: must be in [0, 10000] basis points, got -1"},
		{"latency of hours", `{` + base + `, "noise": {"bank": {"latency": "200h"}}}`, "noise.bank.latency: must be in [0s, 1m0s], got 200h0m0s"},
		{"negative jitter", `{` + base + `, "noise": {"fx": {"jitter": "-1ms"}}}`, "noise.fx.jitter: must be in [0s, 1m0s], got -1ms"},
		{"append errors at the bank", `{` + base + `, "noise": {"bank": {"append_error_bp": 10}}}`, "noise.bank.append_error_bp: applies to the log only"},
		{"append errors over 100%", `{` + base + `, "noise": {"log": {"append_error_bp": 10001}}}`, "noise.log.append_error_bp: must be in [0, 10000] basis points, got 10001"},
		{"unknown noise service", `{` + base + `, "noise": {"dns": {}}}`, `noise.dns: service must be one of bank, fx, log, got "dns"`},
		{"rate overflowing an int", `{"duration": "10s", "rate": 1e30}`, `field "rate" must be a int, got a JSON number`},
		{"duration overflowing", `{"duration": "99999999999h", "rate": 5}`, `duration: want a duration such as "2.5s", got "99999999999h"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseScenario([]byte(tc.file))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Regexp(t, `^line \d+, column \d+: `, err.Error(), "the error says where")
		})
	}
	_, err := parseScenario(make([]byte, maxFileSize+1))
	assert.ErrorIs(t, err, errTooLarge)
}

// Scaling a scenario the command was given never panics, and whatever it
// yields is validated again: shrinking a long scenario can squeeze a window
// below the minimum.
func TestScaledThenValidatedNeverPanics(t *testing.T) {
	long := Scenario{Name: "long", Duration: time.Hour, Rate: 1,
		Faults: []Fault{{Service: "bank", Kind: KindOutage, Start: time.Minute, End: time.Minute + time.Millisecond}}}
	require.NoError(t, long.validate())
	err := long.scaled(time.Second).validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "faults[0]")
	assert.NotPanics(t, func() { _ = Scenario{Duration: 500 * time.Microsecond}.scaled(time.Second) })
	assert.NotPanics(t, func() { _ = Scenario{Duration: 500 * time.Hour}.scaled(time.Second) })
	assert.Equal(t, Scenario{Duration: 0}.scaled(time.Second).Duration, time.Duration(0), "left for validate to refuse")
}

// A valid scenario always turns into faults the simulator accepts.
func TestValidScenariosMakeValidSimulatorFaults(t *testing.T) {
	for _, name := range builtinNames() {
		assertSimAccepts(t, builtins[name])
	}
	s, err := loadScenario("scenarios/flapping-bank.json")
	require.NoError(t, err)
	assertSimAccepts(t, s)
}

func assertSimAccepts(t *testing.T, s Scenario) {
	t.Helper()
	inj, err := sim.NewInjector(sim.InjectorConfig{})
	require.NoError(t, err)
	for _, name := range s.services() {
		assert.NoError(t, inj.Set(s.faults(name)), "%s: %s", s.Name, name)
	}
	assert.NoError(t, sim.NewLog(sim.LogConfig{}).SetFaults(s.logFaults()), s.Name)
}

// The engine refuses a scenario that skipped validation instead of
// panicking on it.
func TestEngineRefusesInvalidScenarios(t *testing.T) {
	_, err := runScenario(context.Background(), runConfig{scenario: Scenario{Duration: 500 * time.Microsecond, Rate: 5}})
	assert.ErrorContains(t, err, "duration: must be in [1s, 1h0m0s], got 500µs")
	assert.Nil(t, workload(Scenario{Duration: 500 * time.Hour, Rate: 10000}, 1))
	assert.Nil(t, workload(Scenario{Duration: time.Second}, 1))
}
