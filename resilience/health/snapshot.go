package health

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// TargetSnapshot is a target's state at one instant. It is a plain value.
//
// In JSON its keys are snake_case, the status is text, times that never
// happened are left out, and durations are Go duration strings
// ("150ms"), each with a _seconds float beside it for dashboards, as in
// breaker snapshots.
type TargetSnapshot struct {
	Name     string    `json:"name"`
	Critical bool      `json:"critical"`
	Status   Status    `json:"status"`
	Since    time.Time `json:"since,omitzero"` // when Status was entered (zero while Unknown)
	// ConsecutiveFailures and ConsecutiveSuccesses count the current run
	// of results; one of them is always zero.
	ConsecutiveFailures  int       `json:"consecutive_failures"`
	ConsecutiveSuccesses int       `json:"consecutive_successes"`
	Probes               uint64    `json:"probes"`
	Failures             uint64    `json:"failures"`
	LastProbe            time.Time `json:"last_probe,omitzero"`
	// LastProbeDuration is how long the last recorded probe took.
	LastProbeDuration time.Duration `json:"-"`
	LastError         string        `json:"last_error,omitempty"`
	// NextProbe is when the loop plans to probe next (zero when no loop
	// runs). RetryAfter hints derive from it.
	NextProbe time.Time `json:"next_probe,omitzero"`
	// ProbeTimeout bounds each probe (see [Config.Timeout]).
	ProbeTimeout time.Duration `json:"-"`
}

// snapshotFields is TargetSnapshot without its methods, so that encoding
// it does not recurse.
type snapshotFields TargetSnapshot

// targetJSON adds the durations in their JSON form; its fields shadow the
// embedded ones of the same name.
type targetJSON struct {
	snapshotFields
	LastProbeDuration        string  `json:"last_probe_duration"`
	LastProbeDurationSeconds float64 `json:"last_probe_duration_seconds"`
	ProbeTimeout             string  `json:"probe_timeout"`
	ProbeTimeoutSeconds      float64 `json:"probe_timeout_seconds"`
}

// MarshalJSON encodes s with its durations as strings.
func (s TargetSnapshot) MarshalJSON() ([]byte, error) {
	return json.Marshal(targetJSON{
		snapshotFields:           snapshotFields(s),
		LastProbeDuration:        s.LastProbeDuration.String(),
		LastProbeDurationSeconds: s.LastProbeDuration.Seconds(),
		ProbeTimeout:             s.ProbeTimeout.String(),
		ProbeTimeoutSeconds:      s.ProbeTimeout.Seconds(),
	})
}

// UnmarshalJSON decodes what MarshalJSON encodes, so a client of a status
// page reads snapshots back into this type; the _seconds fields are
// ignored.
func (s *TargetSnapshot) UnmarshalJSON(b []byte) error {
	var j targetJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	out := TargetSnapshot(j.snapshotFields)
	var err error
	if out.LastProbeDuration, err = parseDuration("last_probe_duration", j.LastProbeDuration); err != nil {
		return err
	}
	if out.ProbeTimeout, err = parseDuration("probe_timeout", j.ProbeTimeout); err != nil {
		return err
	}
	*s = out
	return nil
}

func parseDuration(key, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("health: %s: %w", key, err)
	}
	return d, nil
}

// LogValue presents the snapshot as a group of attributes with the JSON
// keys, so that a state change's Detail logs readably with slog. Durations
// are logged as their strings, the same under every handler.
func (s TargetSnapshot) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("name", s.Name),
		slog.String("status", s.Status.String()),
		slog.Bool("critical", s.Critical),
		slog.Int("consecutive_failures", s.ConsecutiveFailures),
		slog.Int("consecutive_successes", s.ConsecutiveSuccesses),
		slog.Uint64("probes", s.Probes),
		slog.Uint64("failures", s.Failures),
		slog.String("last_probe_duration", s.LastProbeDuration.String()),
		slog.String("probe_timeout", s.ProbeTimeout.String()),
	}
	if s.LastError != "" {
		attrs = append(attrs, slog.String("last_error", s.LastError))
	}
	if !s.NextProbe.IsZero() {
		attrs = append(attrs, slog.Time("next_probe", s.NextProbe))
	}
	return slog.GroupValue(attrs...)
}
