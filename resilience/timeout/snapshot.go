package timeout

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// Snapshot is a timeout's configuration and counters at one moment, for a
// status page or a metrics exporter, which should read these counters
// rather than count events. It is a plain value.
//
// It marshals to JSON with snake_case keys, the mode as text and the
// timeout both as a Go duration string and in seconds, unmarshals from the
// same form, and logs as a group of attributes:
//
//	{"name":"fx","mode":"abandon","timeout":"2s","timeout_seconds":2,"timeouts":3,"abandoned":1,"panics":0}
type Snapshot struct {
	Name    string        // the configured name
	Mode    Mode          // Cooperative or Abandon
	Timeout time.Duration // the configured bound
	// Timeouts counts the calls the timeout's own deadline ended.
	Timeouts uint64
	// Abandoned is how many abandoned calls (Abandon mode) are still
	// running: goroutines held by a dependency that ignores its context.
	Abandoned int64
	// Panics counts the panics of abandoned calls, which reached no caller.
	Panics uint64
}

// Snapshot returns the timeout's counters. It is safe to call at any time,
// on a nil *Timeout too.
func (t *Timeout) Snapshot() Snapshot {
	if t == nil {
		return Snapshot{}
	}
	return Snapshot{
		Name: t.name, Mode: t.mode, Timeout: t.timeout,
		Timeouts: t.timeouts.Load(), Abandoned: t.abandoned.Load(), Panics: t.panics.Load(),
	}
}

// snapshotJSON is the wire form of a Snapshot.
type snapshotJSON struct {
	Name           string  `json:"name"`
	Mode           string  `json:"mode"`
	Timeout        string  `json:"timeout"`
	TimeoutSeconds float64 `json:"timeout_seconds"`
	Timeouts       uint64  `json:"timeouts"`
	Abandoned      int64   `json:"abandoned"`
	Panics         uint64  `json:"panics"`
}

// MarshalJSON writes the snapshot as documented on [Snapshot].
func (s Snapshot) MarshalJSON() ([]byte, error) {
	return json.Marshal(snapshotJSON{
		Name: s.Name, Mode: s.Mode.String(), Timeout: s.Timeout.String(), TimeoutSeconds: s.Timeout.Seconds(),
		Timeouts: s.Timeouts, Abandoned: s.Abandoned, Panics: s.Panics,
	})
}

// UnmarshalJSON reads what MarshalJSON writes, so that a client of a status
// page reads snapshots back; timeout_seconds is ignored.
func (s *Snapshot) UnmarshalJSON(data []byte) error {
	var w snapshotJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	var d time.Duration
	if w.Timeout != "" {
		var err error
		if d, err = time.ParseDuration(w.Timeout); err != nil {
			return fmt.Errorf("timeout: snapshot: %w", err)
		}
	}
	var m Mode
	switch w.Mode {
	case "", "cooperative":
	case "abandon":
		m = Abandon
	default:
		return fmt.Errorf("timeout: snapshot: unknown mode %q", w.Mode)
	}
	*s = Snapshot{Name: w.Name, Mode: m, Timeout: d, Timeouts: w.Timeouts, Abandoned: w.Abandoned, Panics: w.Panics}
	return nil
}

// LogValue presents the snapshot as a group of attributes named as in its
// JSON form. The timeout is logged as its string, the same under every
// handler.
func (s Snapshot) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", s.Name),
		slog.String("mode", s.Mode.String()),
		slog.String("timeout", s.Timeout.String()),
		slog.Uint64("timeouts", s.Timeouts),
		slog.Int64("abandoned", s.Abandoned),
		slog.Uint64("panics", s.Panics),
	)
}
