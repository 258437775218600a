package riprapredis

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// LimiterSnapshot is a fleet limiter's configuration and counters at one
// moment. It marshals to JSON with snake_case keys (the rate as text,
// durations as Go duration strings with a _seconds float beside) and logs
// as a group.
type LimiterSnapshot struct {
	Name  string
	Rate  ratelimit.Rate
	Burst int64
	Lease int64 // 1: one script per decision
	Time  TimeSource
	// Redis is the state of the internal breaker around Redis: "closed"
	// while Redis answers, "open" while decisions are local.
	Redis string

	// Counters since NewLimiter.
	Admitted   uint64
	Rejected   uint64
	RoundTrips uint64 // scripts run
	Fallbacks  uint64 // decisions made without Redis
	Errors     uint64 // failed round trips
	Leased     uint64 // tokens granted by the fleet
	Expired    uint64 // leased tokens dropped unspent at LeaseTTL

	// LeaseTokens is how many leased tokens are left to spend, and
	// LeaseRemaining for how long. Without fallbacks the counters add up:
	// Admitted + Expired + LeaseTokens = Leased.
	LeaseTokens    int64
	LeaseRemaining time.Duration
	LastError      string
}

// Snapshot returns the limiter's counters.
func (l *Limiter) Snapshot() LimiterSnapshot {
	now := l.set.clk.Now()
	s := LimiterSnapshot{
		Name: l.set.name, Rate: l.set.rate, Burst: l.set.burst, Lease: l.set.lease,
		Time: CallerTime, Redis: l.down.State().String(),
		Admitted: l.admitted.Load(), Rejected: l.rejected.Load(), RoundTrips: l.roundTrips.Load(),
		Fallbacks: l.fallbacks.Load(), Errors: l.errors.Load(), Leased: l.leased.Load(), Expired: l.expired.Load(),
	}
	if l.set.serverTime {
		s.Time = ServerTime
	}
	l.mu.Lock()
	if l.tokens > 0 && !now.Before(l.expires) {
		l.expired.Add(uint64(l.tokens)) // swept here too, so the counters always add up
		l.tokens = 0
	}
	if l.tokens > 0 {
		s.LeaseTokens, s.LeaseRemaining = l.tokens, l.expires.Sub(now)
	}
	s.LastError = l.lastErr
	l.mu.Unlock()
	s.Expired = l.expired.Load()
	return s
}

// MarshalJSON encodes the snapshot with snake_case keys.
func (s LimiterSnapshot) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name                  string         `json:"name"`
		Rate                  ratelimit.Rate `json:"rate"`
		Burst                 int64          `json:"burst"`
		Lease                 int64          `json:"lease"`
		Time                  string         `json:"time"`
		Redis                 string         `json:"redis"`
		Admitted              uint64         `json:"admitted"`
		Rejected              uint64         `json:"rejected"`
		RoundTrips            uint64         `json:"round_trips"`
		Fallbacks             uint64         `json:"fallbacks"`
		Errors                uint64         `json:"errors"`
		Leased                uint64         `json:"leased"`
		Expired               uint64         `json:"expired"`
		LeaseTokens           int64          `json:"lease_tokens"`
		LeaseRemaining        string         `json:"lease_remaining"`
		LeaseRemainingSeconds float64        `json:"lease_remaining_seconds"`
		LastError             string         `json:"last_error,omitempty"`
	}{
		s.Name, s.Rate, s.Burst, s.Lease, s.Time.String(), s.Redis,
		s.Admitted, s.Rejected, s.RoundTrips, s.Fallbacks, s.Errors, s.Leased, s.Expired,
		s.LeaseTokens, s.LeaseRemaining.String(), s.LeaseRemaining.Seconds(), s.LastError,
	})
}

// LogValue presents the snapshot as a group of attributes.
func (s LimiterSnapshot) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("rate", s.Rate.String()),
		slog.Int64("burst", s.Burst),
		slog.Int64("lease", s.Lease),
		slog.String("redis", s.Redis),
		slog.Uint64("admitted", s.Admitted),
		slog.Uint64("rejected", s.Rejected),
		slog.Uint64("round_trips", s.RoundTrips),
		slog.Uint64("fallbacks", s.Fallbacks),
	}
	if s.LastError != "" {
		attrs = append(attrs, slog.String("last_error", s.LastError))
	}
	return slog.GroupValue(attrs...)
}
