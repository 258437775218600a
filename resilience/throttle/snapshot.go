package throttle

import (
	"encoding/json"
	"log/slog"
	"time"
)

// Totals are a throttle's counts since it was made. Admitted equals
// Successes + Failures + Ignored + the calls still in flight.
type Totals struct {
	Admitted  uint64 `json:"admitted"`  // calls let through
	Throttled uint64 `json:"throttled"` // calls refused
	Successes uint64 `json:"successes"`
	Failures  uint64 `json:"failures"`
	Ignored   uint64 `json:"ignored"`
}

// Snapshot is a throttle's window and totals at one moment, as a status
// page or a metrics exporter needs them. It is a plain value. In JSON the
// window reads as a duration string ("10s") plus window_seconds.
type Snapshot struct {
	Name string `json:"name"`
	// Requests and Accepts are the counts of the current window.
	Requests int64 `json:"requests"`
	Accepts  int64 `json:"accepts"`
	// RejectionProbability is the chance that a call made now is refused.
	RejectionProbability float64 `json:"rejection_probability"`
	// K and Window are the configuration in force.
	K      float64       `json:"k"`
	Window time.Duration `json:"-"`
	Totals
}

// Snapshot returns the current window and the totals.
func (t *Throttle) Snapshot() Snapshot {
	if t == nil {
		return Snapshot{}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.advance()
	return Snapshot{
		Name: t.name, Requests: t.sum.requests, Accepts: t.sum.accepts,
		RejectionProbability: t.probability(), K: t.k, Window: t.window, Totals: t.totals,
	}
}

// MarshalJSON writes the snapshot with snake_case keys and the window as
// both a duration string and seconds.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	type plain Snapshot // without this method
	return json.Marshal(struct {
		plain
		Window        string  `json:"window"`
		WindowSeconds float64 `json:"window_seconds"`
	}{plain(s), s.Window.String(), s.Window.Seconds()})
}

// LogValue presents the snapshot as a group of attributes.
func (s Snapshot) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", s.Name),
		slog.Int64("requests", s.Requests),
		slog.Int64("accepts", s.Accepts),
		slog.Float64("rejection_probability", s.RejectionProbability),
		slog.Float64("k", s.K),
		slog.Duration("window", s.Window),
		slog.Uint64("admitted", s.Admitted),
		slog.Uint64("throttled", s.Throttled),
		slog.Uint64("successes", s.Successes),
		slog.Uint64("failures", s.Failures),
		slog.Uint64("ignored", s.Ignored),
	)
}
