package dst

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzReadWorld feeds arbitrary bytes to ReadWorld: it never panics, and a
// world it accepts writes back as JSON and as a drill scenario, and plays
// a bounded traffic.
func FuzzReadWorld(f *testing.F) {
	f.Add([]byte(richWorld().JSON()))
	f.Add([]byte(plainWorld(1).JSON()))
	f.Add([]byte(`{"duration": "0s", "load": {"shape": "bursts", "rate": 1, "every": "0s"}}`))
	f.Add([]byte(`{"duration": "1s", "load": {"shape": "ramp", "rate": 1}, "bank": {"windows": [{"kind": "flap", "start": "0s", "end": "1s"}]}}`))
	files, _ := filepath.Glob(filepath.Join("testdata", "findings", "*.json"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := ReadWorld(data)
		sc := w.Scenario("fuzz") // even for a refused world
		require.True(t, json.Valid(sc))
		if err != nil {
			return
		}
		back, err := ReadWorld([]byte(w.JSON()))
		require.NoError(t, err)
		require.Equal(t, w.JSON(), back.JSON())
		require.LessOrEqual(t, len(w.traffic()), maxPayments)
	})
}
