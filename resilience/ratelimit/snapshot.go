package ratelimit

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// Snapshot is a point-in-time view of a [Limiter], a plain value. It
// marshals to JSON with snake_case keys, the rate as text and durations as
// Go duration strings, with a _seconds figure for dashboards:
//
//	{"name":"bank","rate":"100/s","burst":10,"max_wait":"0s","tokens":-2,
//	 "full_in":"120ms","full_in_seconds":0.12,"rejected":3}
type Snapshot struct {
	Name    string
	Rate    Rate
	Burst   int
	MaxWait time.Duration
	// Tokens is how many events could be admitted now. It is negative when
	// reservations have borrowed ahead; for Inf it equals Burst.
	Tokens int
	// FullIn is how long until the bucket is full again (zero if it is).
	FullIn time.Duration
	// Rejected counts the calls refused by Guard, Wait and WaitN since the
	// limiter was built. Allow and AllowN answer their caller and do not
	// count.
	Rejected uint64
}

// Snapshot returns the limiter's state now.
func (l *Limiter) Snapshot() Snapshot { return l.SnapshotAt(l.clk.Now()) }

// SnapshotAt returns the limiter's state at time t.
func (l *Limiter) SnapshotAt(t time.Time) Snapshot {
	now := l.tb.at(t)
	for {
		g := l.cur.Load()
		if g.interval != 0 && g.tat.Load() == frozen {
			l.awaitWriter()
			continue
		}
		return l.snapshotOf(g, now)
	}
}

// snapshotOf reads generation g, which must not be frozen, at now.
func (l *Limiter) snapshotOf(g *gcra, now int64) Snapshot {
	s := Snapshot{Name: l.name, Rate: g.rate, Burst: int(g.burst), MaxWait: l.maxWait,
		Tokens: int(g.burst), Rejected: l.rejected.Load()}
	if g.interval == 0 {
		return s
	}
	debt := max(g.tat.Load()-now, 0)
	s.Tokens = int(floorDiv(g.tau-debt, g.interval))
	s.FullIn = time.Duration(debt)
	return s
}

// snapshotJSON is the wire form of [Snapshot].
type snapshotJSON struct {
	Name          string  `json:"name"`
	Rate          Rate    `json:"rate"`
	Burst         int     `json:"burst"`
	MaxWait       string  `json:"max_wait"`
	Tokens        int     `json:"tokens"`
	FullIn        string  `json:"full_in"`
	FullInSeconds float64 `json:"full_in_seconds"`
	Rejected      uint64  `json:"rejected"`
}

// MarshalJSON writes the snake_case form shown on [Snapshot].
func (s Snapshot) MarshalJSON() ([]byte, error) {
	return json.Marshal(snapshotJSON{
		Name: s.Name, Rate: s.Rate, Burst: s.Burst, MaxWait: s.MaxWait.String(), Tokens: s.Tokens,
		FullIn: s.FullIn.String(), FullInSeconds: s.FullIn.Seconds(), Rejected: s.Rejected,
	})
}

// UnmarshalJSON reads what MarshalJSON writes, so that a status page's JSON
// decodes back into a Snapshot. The _seconds figure is derived and ignored.
func (s *Snapshot) UnmarshalJSON(b []byte) error {
	var w snapshotJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	maxWait, err := parseDuration("max_wait", w.MaxWait)
	if err != nil {
		return err
	}
	fullIn, err := parseDuration("full_in", w.FullIn)
	if err != nil {
		return err
	}
	*s = Snapshot{Name: w.Name, Rate: w.Rate, Burst: w.Burst, MaxWait: maxWait, Tokens: w.Tokens,
		FullIn: fullIn, Rejected: w.Rejected}
	return nil
}

// parseDuration reads a duration field of a snapshot; an absent one is 0.
func parseDuration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("ratelimit: snapshot field %s: %w", field, err)
	}
	return d, nil
}

// LogValue presents the snapshot as a group of attributes, so that the
// slog listener logs it readably as an event's Detail.
func (s Snapshot) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", s.Name), slog.String("rate", s.Rate.String()), slog.Int("burst", s.Burst),
		slog.Duration("max_wait", s.MaxWait), slog.Int("tokens", s.Tokens),
		slog.Duration("full_in", s.FullIn), slog.Uint64("rejected", s.Rejected),
	)
}

// KeyedSnapshot is a point-in-time view of a [Keyed] limiter: its
// configuration, how many keys it tracks, and totals since it was built;
// a plain value. It marshals to JSON with snake_case keys and the rate and capacity policy
// as text:
//
//	{"name":"merchants","rate":"10/m","burst":2,"max_keys":65536,
//	 "at_capacity":"reject_new_keys","keys":3,"limited":1,"refused":0,
//	 "evicted":0,"overflowed":0}
type KeyedSnapshot struct {
	Name       string     `json:"name"`
	Rate       Rate       `json:"rate"`
	Burst      int        `json:"burst"`
	MaxKeys    int        `json:"max_keys"`
	AtCapacity AtCapacity `json:"at_capacity"`
	Keys       int        `json:"keys"` // keys tracked now
	// Limited counts requests refused because their key was out of
	// tokens; Refused counts requests of new keys refused at capacity;
	// Evicted counts idle keys dropped; Overflowed counts decisions made by
	// the shared overflow bucket.
	Limited    uint64 `json:"limited"`
	Refused    uint64 `json:"refused"`
	Evicted    uint64 `json:"evicted"`
	Overflowed uint64 `json:"overflowed"`
}

// Snapshot returns the limiter's configuration and counters; it takes no
// lock.
func (k *Keyed) Snapshot() KeyedSnapshot {
	return KeyedSnapshot{Name: k.name, Rate: k.rate, Burst: int(k.burst), MaxKeys: k.maxKeys,
		AtCapacity: k.atCap, Keys: int(k.count.Load()), Limited: k.limited.Load(),
		Refused: k.refused.Load(), Evicted: k.evicted.Load(), Overflowed: k.overflowed.Load()}
}

// LogValue presents the snapshot as a group of attributes.
func (s KeyedSnapshot) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", s.Name), slog.String("rate", s.Rate.String()), slog.Int("burst", s.Burst),
		slog.Int("max_keys", s.MaxKeys), slog.String("at_capacity", s.AtCapacity.String()),
		slog.Int("keys", s.Keys), slog.Uint64("limited", s.Limited), slog.Uint64("refused", s.Refused),
		slog.Uint64("evicted", s.Evicted), slog.Uint64("overflowed", s.Overflowed),
	)
}

// floorDiv returns ⌊a/b⌋ for b > 0 and any sign of a.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
