package chaos

import (
	"encoding/json"
	"log/slog"
	"time"
)

// Snapshot is an injector's switch and counts at one moment. It is a plain
// value. In JSON a latency injector's wait reads as a duration string
// ("250ms") plus latency_seconds; the other kinds omit both.
type Snapshot struct {
	Name string  `json:"name"`
	Kind Kind    `json:"kind"`
	On   bool    `json:"on"`
	Rate float64 `json:"rate"`
	// Injected counts the calls that got the injection, Passed those that
	// were considered while the injector was on and not picked. Calls seen
	// while it was off, or refused by Config.Enabled, are not counted, so
	// that a switched-off injector costs nothing.
	Injected uint64        `json:"injected"`
	Passed   uint64        `json:"passed"`
	Latency  time.Duration `json:"-"`
}

// Snapshot returns the injector's switch and counts.
func (i *Injector) Snapshot() Snapshot {
	if i == nil {
		return Snapshot{}
	}
	return Snapshot{
		Name: i.name, Kind: i.kind, On: i.on.Load(), Rate: i.rate,
		Injected: i.injected.Load(), Passed: i.passed.Load(), Latency: i.latency,
	}
}

// MarshalJSON writes the snapshot with snake_case keys.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	type plain Snapshot // without this method
	out := struct {
		plain
		Latency        string   `json:"latency,omitempty"`
		LatencySeconds *float64 `json:"latency_seconds,omitempty"`
	}{plain: plain(s)}
	if s.Latency > 0 {
		secs := s.Latency.Seconds()
		out.Latency, out.LatencySeconds = s.Latency.String(), &secs
	}
	return json.Marshal(out)
}

// LogValue presents the snapshot as a group of attributes.
func (s Snapshot) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("name", s.Name),
		slog.String("kind", s.Kind.String()),
		slog.Bool("on", s.On),
		slog.Float64("rate", s.Rate),
		slog.Uint64("injected", s.Injected),
		slog.Uint64("passed", s.Passed),
	}
	if s.Latency > 0 {
		attrs = append(attrs, slog.Duration("latency", s.Latency))
	}
	return slog.GroupValue(attrs...)
}
