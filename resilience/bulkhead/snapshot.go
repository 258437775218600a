package bulkhead

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// Snapshot is a point-in-time view of a [Bulkhead], a plain value: its
// configuration, its gauges and its totals since it was built. The gauges and the totals are
// read one by one, so under load they may be a few calls apart. It
// marshals to JSON with snake_case keys and MaxWait as a Go duration
// string:
//
//	{"name":"ledger","max_concurrent":2,"max_queue":4,"max_wait":"250ms",
//	 "in_flight":2,"queued":1,"waited":7,"rejected":3,"timed_out":1,"abandoned":0}
type Snapshot struct {
	Name          string
	MaxConcurrent int
	MaxQueue      int
	MaxWait       time.Duration
	InFlight      int    // slots held now
	Queued        int    // callers waiting now
	Waited        uint64 // callers that had to queue
	Rejected      uint64 // refused at once: no slot and no room in the queue
	TimedOut      uint64 // left the queue after MaxWait
	Abandoned     uint64 // left the queue because their context ended
}

type snapshotJSON struct {
	Name          string `json:"name"`
	MaxConcurrent int    `json:"max_concurrent"`
	MaxQueue      int    `json:"max_queue"`
	MaxWait       string `json:"max_wait"`
	InFlight      int    `json:"in_flight"`
	Queued        int    `json:"queued"`
	Waited        uint64 `json:"waited"`
	Rejected      uint64 `json:"rejected"`
	TimedOut      uint64 `json:"timed_out"`
	Abandoned     uint64 `json:"abandoned"`
}

// MarshalJSON writes the snake_case form shown on [Snapshot].
func (s Snapshot) MarshalJSON() ([]byte, error) {
	return json.Marshal(snapshotJSON{
		Name: s.Name, MaxConcurrent: s.MaxConcurrent, MaxQueue: s.MaxQueue, MaxWait: s.MaxWait.String(),
		InFlight: s.InFlight, Queued: s.Queued, Waited: s.Waited, Rejected: s.Rejected,
		TimedOut: s.TimedOut, Abandoned: s.Abandoned,
	})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Snapshot) UnmarshalJSON(b []byte) error {
	var w snapshotJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	maxWait, err := parseDuration("max_wait", w.MaxWait)
	if err != nil {
		return err
	}
	*s = Snapshot{Name: w.Name, MaxConcurrent: w.MaxConcurrent, MaxQueue: w.MaxQueue, MaxWait: maxWait,
		InFlight: w.InFlight, Queued: w.Queued, Waited: w.Waited, Rejected: w.Rejected,
		TimedOut: w.TimedOut, Abandoned: w.Abandoned}
	return nil
}

// LogValue presents the snapshot as a group of attributes, so that the
// slog listener logs it readably as an event's Detail.
func (s Snapshot) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", s.Name), slog.Int("max_concurrent", s.MaxConcurrent),
		slog.Int("max_queue", s.MaxQueue), slog.Duration("max_wait", s.MaxWait),
		slog.Int("in_flight", s.InFlight), slog.Int("queued", s.Queued),
		slog.Uint64("waited", s.Waited), slog.Uint64("rejected", s.Rejected),
		slog.Uint64("timed_out", s.TimedOut), slog.Uint64("abandoned", s.Abandoned),
	)
}

// AdaptiveSnapshot is a point-in-time view of an [Adaptive] limit, a plain
// value. It marshals to JSON with snake_case keys and LatencyTarget as a Go duration
// string with a _seconds figure:
//
//	{"name":"bank","limit":8,"min":1,"max":1000,"latency_target":"250ms",
//	 "latency_target_seconds":0.25,"in_flight":3,"rejected":0,"drops":2}
type AdaptiveSnapshot struct {
	Name          string
	Limit         int // the current limit
	Min, Max      int
	LatencyTarget time.Duration
	InFlight      int
	Rejected      uint64 // calls refused over the limit
	Drops         uint64 // failures and slow successes seen
}

type adaptiveJSON struct {
	Name                 string  `json:"name"`
	Limit                int     `json:"limit"`
	Min                  int     `json:"min"`
	Max                  int     `json:"max"`
	LatencyTarget        string  `json:"latency_target"`
	LatencyTargetSeconds float64 `json:"latency_target_seconds"`
	InFlight             int     `json:"in_flight"`
	Rejected             uint64  `json:"rejected"`
	Drops                uint64  `json:"drops"`
}

// MarshalJSON writes the snake_case form shown on [AdaptiveSnapshot].
func (s AdaptiveSnapshot) MarshalJSON() ([]byte, error) {
	return json.Marshal(adaptiveJSON{
		Name: s.Name, Limit: s.Limit, Min: s.Min, Max: s.Max, LatencyTarget: s.LatencyTarget.String(),
		LatencyTargetSeconds: s.LatencyTarget.Seconds(), InFlight: s.InFlight, Rejected: s.Rejected, Drops: s.Drops,
	})
}

// UnmarshalJSON reads what MarshalJSON writes; the _seconds figure is
// derived and ignored.
func (s *AdaptiveSnapshot) UnmarshalJSON(b []byte) error {
	var w adaptiveJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	target, err := parseDuration("latency_target", w.LatencyTarget)
	if err != nil {
		return err
	}
	*s = AdaptiveSnapshot{Name: w.Name, Limit: w.Limit, Min: w.Min, Max: w.Max, LatencyTarget: target,
		InFlight: w.InFlight, Rejected: w.Rejected, Drops: w.Drops}
	return nil
}

// LogValue presents the snapshot as a group of attributes.
func (s AdaptiveSnapshot) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", s.Name), slog.Int("limit", s.Limit), slog.Int("min", s.Min), slog.Int("max", s.Max),
		slog.Duration("latency_target", s.LatencyTarget), slog.Int("in_flight", s.InFlight),
		slog.Uint64("rejected", s.Rejected), slog.Uint64("drops", s.Drops),
	)
}

// parseDuration reads a duration field of a snapshot; an absent one is 0.
func parseDuration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bulkhead: snapshot field %s: %w", field, err)
	}
	return d, nil
}
