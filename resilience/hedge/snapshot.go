package hedge

import (
	"encoding/json"
	"log/slog"
	"time"
)

// Snapshot is a hedger's counts and current delay at one moment. It is a
// plain value. In JSON the delay reads as a duration string ("12.5ms")
// plus delay_seconds.
type Snapshot struct {
	Name string `json:"name"`
	// Calls counts the calls the hedger started; Hedges the extra attempts
	// it made; HedgeWins the calls whose answer came from a hedge;
	// BudgetRefusals the hedges the budget refused.
	Calls          uint64 `json:"calls"`
	Hedges         uint64 `json:"hedges"`
	HedgeWins      uint64 `json:"hedge_wins"`
	BudgetRefusals uint64 `json:"budget_refusals"`
	// Delay is the wait before the next call's first hedge: the fixed
	// delay, or the quantile's estimate once it has enough samples.
	Delay time.Duration `json:"-"`
	// Quantile is the configured quantile, zero for a fixed delay;
	// Samples counts the latencies it has been fed.
	Quantile float64 `json:"quantile"`
	Samples  uint64  `json:"samples"`
}

// Snapshot returns the hedger's counts and current delay.
func (h *Hedger) Snapshot() Snapshot {
	if h == nil {
		return Snapshot{}
	}
	s := Snapshot{
		Name: h.name, Calls: h.calls.Load(), Hedges: h.hedges.Load(), HedgeWins: h.wins.Load(),
		BudgetRefusals: h.refused.Load(), Delay: h.delay(),
	}
	if h.est != nil {
		s.Quantile, s.Samples = h.est.q, h.est.samples.Load()
	}
	return s
}

// MarshalJSON writes the snapshot with snake_case keys and the delay as
// both a duration string and seconds.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	type plain Snapshot // without this method
	return json.Marshal(struct {
		plain
		Delay        string  `json:"delay"`
		DelaySeconds float64 `json:"delay_seconds"`
	}{plain(s), s.Delay.String(), s.Delay.Seconds()})
}

// LogValue presents the snapshot as a group of attributes.
func (s Snapshot) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", s.Name),
		slog.Uint64("calls", s.Calls),
		slog.Uint64("hedges", s.Hedges),
		slog.Uint64("hedge_wins", s.HedgeWins),
		slog.Uint64("budget_refusals", s.BudgetRefusals),
		slog.Duration("delay", s.Delay),
		slog.Float64("quantile", s.Quantile),
		slog.Uint64("samples", s.Samples),
	)
}
