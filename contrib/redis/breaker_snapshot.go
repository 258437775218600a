package riprapredis

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/riprap-go/riprap/resilience/breaker"
)

// BreakerSnapshot is a fleet breaker's view of the fleet and its counters
// at one moment, beside the local breaker's own [breaker.Snapshot]. It is a
// plain value; it marshals to JSON with snake_case keys (durations as Go
// duration strings with a _seconds float beside) and logs as a group.
type BreakerSnapshot struct {
	Name     string
	Instance string
	// Connection is "connecting" (before the first subscription),
	// "connected" or "disconnected".
	Connection string
	// Epoch is the fleet epoch last seen: it grows by one with every
	// opening published, and starts again from 1 once the fleet key has
	// expired or Redis lost it.
	Epoch int64
	// Holding says this instance holds its local breaker open for the
	// fleet (or, failing closed, for a lost connection).
	Holding bool
	// HoldRemaining is how long the fleet asks this instance to hold:
	// until the latest deadline heard, plus ReleaseDelay.
	HoldRemaining time.Duration

	// Counters since NewBreaker.
	Published  uint64 // local openings that opened the fleet
	Reported   uint64 // local openings reported towards a quorum not yet reached
	Adopted    uint64 // local openings that found the fleet already open at a newer epoch
	Received   uint64 // messages heard on the fleet channel, this instance's own included
	Repaired   uint64 // openings learned by reading the key, not from a message
	Holds      uint64 // holds placed on the local breaker
	Releases   uint64 // holds ended at the deadline (to half-open)
	Reconnects uint64 // subscriptions re-established after a loss
	Errors     uint64 // failed Redis commands, lost connections, malformed messages
	LastError  string

	Local breaker.Snapshot
}

// Snapshot returns the fleet breaker's state and counters.
func (s *Breaker) Snapshot() BreakerSnapshot {
	local := s.local.Snapshot()
	now := s.set.clk.Now()
	s.mu.Lock()
	snap := BreakerSnapshot{
		Name: s.set.name, Instance: s.set.instance, Connection: s.conn, Epoch: s.epoch,
		HoldRemaining: max(0, s.holdUntil.Sub(now)), LastError: s.lastErr,
	}
	s.mu.Unlock()
	snap.Holding = s.holding.Load()
	snap.Published, snap.Reported, snap.Adopted = s.published.Load(), s.reported.Load(), s.adopted.Load()
	snap.Received, snap.Repaired = s.received.Load(), s.repaired.Load()
	snap.Holds, snap.Releases = s.holds.Load(), s.releases.Load()
	snap.Reconnects, snap.Errors = s.reconnects.Load(), s.errors.Load()
	snap.Local = local
	return snap
}

// MarshalJSON encodes the snapshot with snake_case keys.
func (s BreakerSnapshot) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name                 string           `json:"name"`
		Instance             string           `json:"instance"`
		Connection           string           `json:"connection"`
		Epoch                int64            `json:"epoch"`
		Holding              bool             `json:"holding"`
		HoldRemaining        string           `json:"hold_remaining"`
		HoldRemainingSeconds float64          `json:"hold_remaining_seconds"`
		Published            uint64           `json:"published"`
		Reported             uint64           `json:"reported"`
		Adopted              uint64           `json:"adopted"`
		Received             uint64           `json:"received"`
		Repaired             uint64           `json:"repaired"`
		Holds                uint64           `json:"holds"`
		Releases             uint64           `json:"releases"`
		Reconnects           uint64           `json:"reconnects"`
		Errors               uint64           `json:"errors"`
		LastError            string           `json:"last_error,omitempty"`
		Local                breaker.Snapshot `json:"local"`
	}{
		s.Name, s.Instance, s.Connection, s.Epoch, s.Holding,
		s.HoldRemaining.String(), s.HoldRemaining.Seconds(),
		s.Published, s.Reported, s.Adopted, s.Received, s.Repaired, s.Holds, s.Releases,
		s.Reconnects, s.Errors, s.LastError, s.Local,
	})
}

// LogValue presents the snapshot as a group of attributes, the local
// breaker's as a nested group.
func (s BreakerSnapshot) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("instance", s.Instance),
		slog.String("connection", s.Connection),
		slog.Int64("epoch", s.Epoch),
		slog.Bool("holding", s.Holding),
		slog.String("hold_remaining", s.HoldRemaining.String()),
		slog.Uint64("published", s.Published),
		slog.Uint64("received", s.Received),
		slog.Uint64("repaired", s.Repaired),
		slog.Uint64("errors", s.Errors),
	}
	if s.LastError != "" {
		attrs = append(attrs, slog.String("last_error", s.LastError))
	}
	attrs = append(attrs, slog.Any("local", s.Local))
	return slog.GroupValue(attrs...)
}
