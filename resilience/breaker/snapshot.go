package breaker

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// Snapshot is a breaker's state and counters at one moment, as a status
// page or a metrics exporter needs them. It is a plain value; metrics read
// its counters rather than counting events.
//
// It marshals to JSON with snake_case keys, the state as text and every
// duration twice: as a Go duration string ("open_wait": "5s") for people
// and as float seconds ("open_wait_seconds": 5) for dashboards. It
// unmarshals from the same form, and logs as a group of attributes.
type Snapshot struct {
	Name       string
	State      State
	Since      time.Time // when the breaker entered State
	Generation uint64    // incremented by every transition, Reset and metrics-only "would open"

	// Totals since the breaker was created (Reset keeps them). Slow counts
	// calls that were also counted as a success or a failure; Rejected
	// counts calls refused without reaching the dependency.
	Successes uint64
	Failures  uint64
	Ignored   uint64
	Rejected  uint64
	Slow      uint64

	// The current window (Closed and MetricsOnly; zero otherwise).
	WindowCalls         uint64
	FailureRate         float64 // failures / WindowCalls
	SlowCallRate        float64 // slow calls / WindowCalls
	ConsecutiveFailures int64

	// OpenWait is the wait of the current opening, or of the last one if
	// the breaker has not closed since; zero once it has.
	OpenWait time.Duration
	// UntilHalfOpen is the time left before an open breaker admits a probe.
	UntilHalfOpen time.Duration
	// HoldRemaining is the time left before a held-open breaker expects its
	// release (the next health probe): its rejections' RetryAfter.
	HoldRemaining time.Duration
	// Reopens counts consecutive re-openings since the breaker last closed.
	Reopens int

	// Half-open only.
	ProbesInFlight int
	ProbeSuccesses int
}

// Snapshot returns the breaker's state and counters, after any transition
// that time has made due.
func (b *Breaker) Snapshot() Snapshot {
	b.mu.Lock()
	now := b.now()
	b.advance(now)
	s := b.snapshotLocked(now)
	b.mu.Unlock()
	b.disp.Flush()
	return s
}

// snapshotLocked reads the current phase and the totals. b.mu must be held.
func (b *Breaker) snapshotLocked(now int64) Snapshot {
	ph := b.cur.Load()
	s := Snapshot{
		Name: b.name, State: ph.state, Since: b.at(ph.since), Generation: ph.gen,
		Successes: b.succFolded, Failures: b.fail.Load(),
		Ignored: b.ignored.Load(), Rejected: b.rejFolded, Slow: b.slow.Load(),
		OpenWait: b.lastWait, Reopens: b.reopens,
	}
	n := ph.calls.sum()
	if ph.state.countsRejections() {
		s.Rejected += n
	} else {
		s.Successes += n + ph.recorded - ph.failures
	}
	switch ph.state {
	case Closed, MetricsOnly:
		s.ConsecutiveFailures = ph.consecutive.Load()
		st := ph.win.stats(b.set, n+ph.recorded, now)
		s.WindowCalls = st.calls
		if st.calls > 0 {
			s.FailureRate = float64(st.failures) / float64(st.calls)
			s.SlowCallRate = float64(st.slow) / float64(st.calls)
		}
	case Open:
		s.UntilHalfOpen = max(0, time.Duration(ph.until.Load()-now))
	case HeldOpen:
		s.HoldRemaining = max(0, time.Duration(ph.until.Load()-now))
	case HalfOpen:
		s.ProbesInFlight, s.ProbeSuccesses = int(ph.inflight), int(ph.successes)
	}
	return s
}

// snapshotJSON is the wire form of a Snapshot.
type snapshotJSON struct {
	Name       string    `json:"name"`
	State      State     `json:"state"`
	Since      time.Time `json:"since"`
	Generation uint64    `json:"generation"`

	Successes uint64 `json:"successes"`
	Failures  uint64 `json:"failures"`
	Ignored   uint64 `json:"ignored"`
	Rejected  uint64 `json:"rejected"`
	Slow      uint64 `json:"slow"`

	WindowCalls         uint64  `json:"window_calls"`
	FailureRate         float64 `json:"failure_rate"`
	SlowCallRate        float64 `json:"slow_call_rate"`
	ConsecutiveFailures int64   `json:"consecutive_failures"`

	OpenWait             string  `json:"open_wait"`
	OpenWaitSeconds      float64 `json:"open_wait_seconds"`
	UntilHalfOpen        string  `json:"until_half_open"`
	UntilHalfOpenSeconds float64 `json:"until_half_open_seconds"`
	HoldRemaining        string  `json:"hold_remaining"`
	HoldRemainingSeconds float64 `json:"hold_remaining_seconds"`
	Reopens              int     `json:"reopens"`

	ProbesInFlight int `json:"probes_in_flight"`
	ProbeSuccesses int `json:"probe_successes"`
}

// MarshalJSON encodes the snapshot with snake_case keys, durations as Go
// duration strings with a _seconds float beside each.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	return json.Marshal(snapshotJSON{
		Name: s.Name, State: s.State, Since: s.Since, Generation: s.Generation,
		Successes: s.Successes, Failures: s.Failures, Ignored: s.Ignored, Rejected: s.Rejected, Slow: s.Slow,
		WindowCalls: s.WindowCalls, FailureRate: s.FailureRate, SlowCallRate: s.SlowCallRate,
		ConsecutiveFailures: s.ConsecutiveFailures,
		OpenWait:            s.OpenWait.String(), OpenWaitSeconds: s.OpenWait.Seconds(),
		UntilHalfOpen: s.UntilHalfOpen.String(), UntilHalfOpenSeconds: s.UntilHalfOpen.Seconds(),
		HoldRemaining: s.HoldRemaining.String(), HoldRemainingSeconds: s.HoldRemaining.Seconds(),
		Reopens:        s.Reopens,
		ProbesInFlight: s.ProbesInFlight, ProbeSuccesses: s.ProbeSuccesses,
	})
}

// UnmarshalJSON decodes what MarshalJSON encodes, so a client of a status
// page reads snapshots back; the _seconds fields are ignored.
func (s *Snapshot) UnmarshalJSON(data []byte) error {
	var w snapshotJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	var durs [3]time.Duration
	for i, text := range []string{w.OpenWait, w.UntilHalfOpen, w.HoldRemaining} {
		if text == "" {
			continue
		}
		d, err := time.ParseDuration(text)
		if err != nil {
			return fmt.Errorf("breaker: snapshot: %w", err)
		}
		durs[i] = d
	}
	*s = Snapshot{
		Name: w.Name, State: w.State, Since: w.Since, Generation: w.Generation,
		Successes: w.Successes, Failures: w.Failures, Ignored: w.Ignored, Rejected: w.Rejected, Slow: w.Slow,
		WindowCalls: w.WindowCalls, FailureRate: w.FailureRate, SlowCallRate: w.SlowCallRate,
		ConsecutiveFailures: w.ConsecutiveFailures,
		OpenWait:            durs[0], UntilHalfOpen: durs[1], HoldRemaining: durs[2],
		Reopens:        w.Reopens,
		ProbesInFlight: w.ProbesInFlight, ProbeSuccesses: w.ProbeSuccesses,
	}
	return nil
}

// LogValue presents the snapshot as a group of attributes with the JSON
// keys, only those that mean something in its state, so that the slog
// listener logs it readably as an event's Detail. Durations are logged as
// their strings, the same under every handler.
func (s Snapshot) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("state", s.State.String()),
		slog.Uint64("generation", s.Generation),
		slog.Uint64("successes", s.Successes),
		slog.Uint64("failures", s.Failures),
		slog.Uint64("ignored", s.Ignored),
		slog.Uint64("rejected", s.Rejected),
		slog.Uint64("slow", s.Slow),
	}
	switch s.State {
	case Closed, MetricsOnly:
		attrs = append(attrs, slog.Uint64("window_calls", s.WindowCalls),
			slog.Float64("failure_rate", s.FailureRate), slog.Float64("slow_call_rate", s.SlowCallRate),
			slog.Int64("consecutive_failures", s.ConsecutiveFailures))
	case Open:
		attrs = append(attrs, slog.String("open_wait", s.OpenWait.String()),
			slog.String("until_half_open", s.UntilHalfOpen.String()), slog.Int("reopens", s.Reopens))
	case HeldOpen:
		attrs = append(attrs, slog.String("hold_remaining", s.HoldRemaining.String()),
			slog.Int("reopens", s.Reopens))
	case HalfOpen:
		attrs = append(attrs, slog.Int("probes_in_flight", s.ProbesInFlight),
			slog.Int("probe_successes", s.ProbeSuccesses))
	}
	return slog.GroupValue(attrs...)
}
