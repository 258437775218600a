package breaker

import (
	"log/slog"
	"time"
)

// Snapshot is a breaker's state and counters at one moment, as a status
// page or a metrics exporter needs them. It is a plain value.
type Snapshot struct {
	Name       string    `json:"name"`
	State      State     `json:"state"`
	Since      time.Time `json:"since"`      // when the breaker entered State
	Generation uint64    `json:"generation"` // incremented by every transition, Reset and metrics-only "would open"

	// Totals since the breaker was created (Reset keeps them). Slow counts
	// calls that were also counted as a success or a failure.
	Successes uint64 `json:"successes"`
	Failures  uint64 `json:"failures"`
	Ignored   uint64 `json:"ignored"`
	Rejected  uint64 `json:"rejected"`
	Slow      uint64 `json:"slow"`

	// The current window (Closed and MetricsOnly; zero otherwise).
	WindowCalls         uint64  `json:"window_calls"`
	FailureRate         float64 `json:"failure_rate"`   // failures / WindowCalls
	SlowCallRate        float64 `json:"slow_call_rate"` // slow calls / WindowCalls
	ConsecutiveFailures int64   `json:"consecutive_failures"`

	// OpenWait is the wait of the current opening, or of the last one if
	// the breaker has not closed since; zero once it has.
	OpenWait time.Duration `json:"open_wait"`
	// UntilHalfOpen is the time left before an open breaker admits a probe.
	UntilHalfOpen time.Duration `json:"until_half_open"`
	// Reopens counts consecutive re-openings since the breaker last closed.
	Reopens int `json:"reopens"`

	// Half-open only.
	ProbesInFlight int `json:"probes_in_flight"`
	ProbeSuccesses int `json:"probe_successes"`
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
		Successes: b.succFolded + b.succ.Load(), Failures: b.fail.Load(),
		Ignored: b.ignored.Load(), Rejected: b.rejected.Load(), Slow: b.slow.Load(),
		OpenWait: b.lastWait, Reopens: b.reopens,
	}
	switch ph.state {
	case Closed, MetricsOnly:
		n := ph.calls.Load() &^ sealed
		s.Successes += n - ph.failures
		s.ConsecutiveFailures = ph.consecutive.Load()
		var st windowStats
		if ph.count != nil {
			st = ph.count.stats(n)
		} else {
			st = ph.timed.stats(now)
		}
		s.WindowCalls = st.calls
		if st.calls > 0 {
			s.FailureRate = float64(st.failures) / float64(st.calls)
			s.SlowCallRate = float64(st.slow) / float64(st.calls)
		}
	case Open:
		s.UntilHalfOpen = max(0, time.Duration(ph.until-now))
	case HalfOpen:
		s.ProbesInFlight, s.ProbeSuccesses = ph.inflight, ph.successes
	}
	return s
}

// LogValue presents the snapshot as a group of attributes, so that the
// slog listener logs it readably as an event's Detail.
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
		attrs = append(attrs, slog.Duration("open_wait", s.OpenWait),
			slog.Duration("until_half_open", s.UntilHalfOpen), slog.Int("reopens", s.Reopens))
	case HalfOpen:
		attrs = append(attrs, slog.Int("probes_in_flight", s.ProbesInFlight),
			slog.Int("probe_successes", s.ProbeSuccesses))
	}
	return slog.GroupValue(attrs...)
}
