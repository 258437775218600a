package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseScenarioRejectsBadFilesWithLineAndColumn(t *testing.T) {
	for _, tc := range []struct {
		name, file, want string
	}{
		{"syntax error", "{\n  \"name\": \"x\",\n  \"rate\": 10,,\n}",
			`line 3, column 14: invalid JSON: invalid character ',' looking for beginning of object key string`},
		{"wrong type", "{\n  \"name\": \"x\",\n  \"rate\": \"fast\"\n}",
			`line 3, column 3: field "rate" must be a int, got a JSON string`},
		{"unknown field", "{\n  \"name\": \"x\",\n  \"speed\": 3\n}",
			`line 3, column 3: unknown field "speed"`},
		{"truncated", "{\n  \"name\": \"x\",\n",
			`line 3, column 1: the file ends before the scenario object does`},
		{"bad duration in a fault", `{"duration": "10s", "rate": 5, "faults": [
  {"service": "bank", "kind": "outage", "start": "1s", "end": "2s"},
  {"service": "fx", "kind": "outage", "start": "soon", "end": "2s"}
]}`, `line 3, column 39: faults[1].start: want a duration such as "2.5s", got "soon"`},
		{"unknown service", `{"duration": "10s", "rate": 5, "faults": [
    {"service": "dns", "kind": "outage", "start": "1s", "end": "2s"}
]}`, `line 2, column 5: faults[0]: service must be one of bank, fx, log, got "dns"`},
		{"window past the end", `{"duration": "10s", "rate": 5,
 "faults": [{"service": "bank", "kind": "hang", "start": "9s", "end": "11s"}]}`,
			`line 2, column 13: faults[0]: want 0 <= start < end <= duration (10s), got start 9s, end 11s`},
		{"slowdown without extra", `{"duration": "10s", "rate": 5,
 "faults": [{"service": "fx", "kind": "slowdown", "start": "1s", "end": "2s"}]}`,
			`line 2, column 13: faults[0].extra: must be in [1ms, 10m0s] for a slowdown, got 0s`},
		{"bad rate", "{\"duration\": \"10s\",\n \"rate\": 0}", `line 2, column 2: rate: must be in [1, 10000] payments per second, got 0`},
		{"bad noise", `{"duration": "10s", "rate": 5, "noise": {"bank": {"error_bp": 20000}}}`,
			`line 1, column 51: noise.bank.error_bp: must be in [0, 10000] basis points, got 20000`},
		{"trailing data", `{"duration": "10s", "rate": 5} {}`, `line 1, column 32: unexpected data after the scenario object`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseScenario([]byte(tc.file))
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

func TestLoadScenarioNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(path, []byte("{\n\"rate\": [}"), 0o644))
	_, err := loadScenario(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path+": line 2, column 10: invalid JSON")

	_, err = loadScenario("no-such-scenario")
	assert.ErrorContains(t, err, `scenario "no-such-scenario" is neither a built-in (bank-outage, calm, drill, flaky-log, slow-bank, two-banks) nor a readable file`)
}

func TestShippedScenarioFileParses(t *testing.T) {
	s, err := loadScenario("scenarios/flapping-bank.json")
	require.NoError(t, err)
	assert.Equal(t, "flapping-bank", s.Name)
	assert.Equal(t, 20*time.Second, s.Duration)
	assert.Len(t, s.Faults, 3)
	assert.Equal(t, Noise{LostReplyBP: 50, Latency: 2 * time.Millisecond, Jitter: 8 * time.Millisecond}, s.Noise["bank"])
}

// A scenario file with "banks": 2 may name the second bank in its faults
// and noise; one without may not.
func TestShippedTwoBankScenarioFileParses(t *testing.T) {
	s, err := loadScenario("scenarios/two-banks-flapping.json")
	require.NoError(t, err)
	require.NoError(t, s.validate())
	assert.True(t, s.twoBanks())
	assert.Equal(t, []string{"bank", secondBank, "fx", "log"}, s.services())
	assert.Len(t, s.windows(secondBank), 1)

	s.Banks = 1
	assert.ErrorContains(t, s.validate(), `service must be one of bank, fx, log, got "bank2"`)
	s.Banks = 3
	assert.ErrorContains(t, s.validate(), "banks: must be in [0, 2], got 3")
}

func TestBuiltinScenariosAreValid(t *testing.T) {
	for _, name := range builtinNames() {
		s, err := loadScenario(name)
		require.NoError(t, err, name)
		assert.NoError(t, s.validate(), name)
		assert.NoError(t, s.scaled(3*time.Second).validate(), name)
	}
}

func TestScaledStretchesEveryWindow(t *testing.T) {
	s := builtins["drill"].scaled(24 * time.Second)
	assert.Equal(t, 24*time.Second, s.Duration)
	assert.Equal(t, Fault{Service: "bank", Kind: KindHang, Start: 4 * time.Second, End: 10 * time.Second}, s.Faults[0])
	assert.Equal(t, 2*time.Second, builtins["drill"].Faults[0].Start, "the built-in is left alone")
	assert.Equal(t, builtins["drill"].Faults, builtins["drill"].scaled(0).Faults)
}

func TestFaultsTurnIntoSimulatorWindows(t *testing.T) {
	s := builtins["drill"]
	bank := s.faults("bank")
	require.Len(t, bank.Windows, 1)
	assert.Equal(t, hangDelay, bank.Windows[0].Extra, "a hang is a slowdown longer than any timeout")
	assert.Equal(t, 2*time.Second, bank.Windows[0].Start)
	assert.Equal(t, 50, int(bank.LostReplyRate))
	assert.Empty(t, s.faults("log").Windows[0].Extra)
}

func TestWorkloadIsDrawnFromTheSeed(t *testing.T) {
	s := Scenario{Duration: 2 * time.Second, Rate: 50}
	a, b, c := workload(s, 7), workload(s, 7), workload(s, 8)
	require.Len(t, a, 100)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a[3].req, c[3].req)
	assert.Equal(t, 20*time.Millisecond, a[1].at)
	cross, broke := 0, 0
	for _, j := range a {
		require.NoError(t, j.req.Validate())
		assert.NotEqual(t, j.req.Payer, j.req.Payee)
		if j.req.TargetCurrency.Known() {
			cross++
		}
		if j.req.Payee == account("usd", 0) || j.req.Payee == account("eur", 0) {
			broke++
		}
	}
	assert.Positive(t, cross, "some payments need an FX quote")
	assert.Zero(t, broke, "broke accounts never receive money")
}
