package dashboard

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/throttle"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// Snapshot is everything a [Dashboard] shows at one instant: each
// component's own snapshot and, for breakers and health targets, their
// timelines. It is a plain value.
//
// It marshals to JSON with snake_case keys, every list present (empty
// rather than null) and durations as Go duration strings with a _seconds
// float beside each, as component snapshots do:
//
//	{"title":"riprap dashboard","time":"…","interval":"1s","interval_seconds":1,
//	 "history":"5m0s","history_seconds":300,
//	 "breakers":[{"snapshot":{"name":"bank","state":"open",…},
//	              "timeline":[{"state":"closed","at":"…","seq":0},…]}],
//	 "limiters":[…],"keyed":[…],"bulkheads":[…],"adaptive":[…],"health":[…],
//	 "budgets":[{"name":"bank","snapshot":{…}}],"retries":[…],"timeouts":[…],
//	 "throttles":[…],"clients":1,"dropped_clients":0}
type Snapshot struct {
	Title    string
	Time     time.Time
	Interval time.Duration
	History  time.Duration

	Breakers  []BreakerStatus
	Limiters  []ratelimit.Snapshot
	Keyed     []ratelimit.KeyedSnapshot
	Bulkheads []bulkhead.Snapshot
	Adaptive  []bulkhead.AdaptiveSnapshot
	Health    []TargetStatus
	Budgets   []BudgetStatus
	Retries   []backoff.RetrySnapshot
	Timeouts  []timeout.Snapshot
	Throttles []throttle.Snapshot

	// Clients is the number of event streams served now; DroppedClients
	// counts those dropped for falling behind since the dashboard began.
	Clients        int
	DroppedClients uint64
}

// BreakerStatus is a breaker's snapshot and the timeline of its states
// over the last Config.History. The timeline is empty in the snapshots
// streamed every Interval, which carry only what changed.
type BreakerStatus struct {
	Snapshot breaker.Snapshot `json:"snapshot"`
	Timeline []Transition     `json:"timeline,omitempty"`

	of *breaker.Breaker // the breaker snapshotted; see timeline.of
}

// TargetStatus is a health target's snapshot and the timeline of its
// statuses, as [BreakerStatus] is for a breaker.
type TargetStatus struct {
	Snapshot health.TargetSnapshot `json:"snapshot"`
	Timeline []Transition          `json:"timeline,omitempty"`

	of any // its *health.Checker, or partsOwner; see timeline.of
}

// BudgetStatus is a retry budget's snapshot under the name given in
// Config.Budgets.
type BudgetStatus struct {
	Name     string                 `json:"name"`
	Snapshot backoff.BudgetSnapshot `json:"snapshot"`
}

// snapshotJSON is the wire form of a Snapshot.
type snapshotJSON struct {
	Title           string                      `json:"title"`
	Time            time.Time                   `json:"time"`
	Interval        string                      `json:"interval"`
	IntervalSeconds float64                     `json:"interval_seconds"`
	History         string                      `json:"history"`
	HistorySeconds  float64                     `json:"history_seconds"`
	Breakers        []BreakerStatus             `json:"breakers"`
	Limiters        []ratelimit.Snapshot        `json:"limiters"`
	Keyed           []ratelimit.KeyedSnapshot   `json:"keyed"`
	Bulkheads       []bulkhead.Snapshot         `json:"bulkheads"`
	Adaptive        []bulkhead.AdaptiveSnapshot `json:"adaptive"`
	Health          []TargetStatus              `json:"health"`
	Budgets         []BudgetStatus              `json:"budgets"`
	Retries         []backoff.RetrySnapshot     `json:"retries"`
	Timeouts        []timeout.Snapshot          `json:"timeouts"`
	Throttles       []throttle.Snapshot         `json:"throttles"`
	Clients         int                         `json:"clients"`
	DroppedClients  uint64                      `json:"dropped_clients"`
}

// MarshalJSON encodes the snapshot as its type documentation shows.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	return json.Marshal(snapshotJSON{
		Title: s.Title, Time: s.Time,
		Interval: s.Interval.String(), IntervalSeconds: s.Interval.Seconds(),
		History: s.History.String(), HistorySeconds: s.History.Seconds(),
		Breakers: orEmpty(s.Breakers), Limiters: orEmpty(s.Limiters), Keyed: orEmpty(s.Keyed),
		Bulkheads: orEmpty(s.Bulkheads), Adaptive: orEmpty(s.Adaptive), Health: orEmpty(s.Health),
		Budgets: orEmpty(s.Budgets), Retries: orEmpty(s.Retries), Timeouts: orEmpty(s.Timeouts),
		Throttles: orEmpty(s.Throttles), Clients: s.Clients, DroppedClients: s.DroppedClients,
	})
}

// orEmpty makes a nil list marshal as [] so the page need not test for
// null.
func orEmpty[E any](s []E) []E {
	if s == nil {
		return []E{}
	}
	return s
}

// collect reads every component's snapshot. It runs without the
// dashboard's lock: a component's Snapshot may deliver its queued events,
// and so call the dashboard's listener, which takes the lock.
func (d *Dashboard) collect() Snapshot {
	s := Snapshot{Title: d.cfg.Title, Time: d.cfg.Clock.Now(), Interval: d.cfg.Interval, History: d.cfg.History}
	src := d.sources()
	s.Breakers = breakers(src)
	for _, c := range src {
		s.Limiters = append(s.Limiters, each(c.Limiters, (*ratelimit.Limiter).Snapshot)...)
		s.Keyed = append(s.Keyed, each(c.Keyed, (*ratelimit.Keyed).Snapshot)...)
		s.Bulkheads = append(s.Bulkheads, each(c.Bulkheads, (*bulkhead.Bulkhead).Snapshot)...)
		s.Adaptive = append(s.Adaptive, each(c.Adaptive, (*bulkhead.Adaptive).Snapshot)...)
		if c.Health != nil {
			for _, t := range c.Health.Snapshot() {
				s.Health = append(s.Health, TargetStatus{Snapshot: t, of: c.Health})
			}
		}
		for name, b := range c.Budgets {
			if b != nil {
				s.Budgets = append(s.Budgets, BudgetStatus{Name: name, Snapshot: b.Snapshot()})
			}
		}
		s.Retries = append(s.Retries, each(c.Retries, (*backoff.Retry).Snapshot)...)
		s.Timeouts = append(s.Timeouts, each(c.Timeouts, (*timeout.Timeout).Snapshot)...)
		s.Throttles = append(s.Throttles, each(c.Throttles, (*throttle.Throttle).Snapshot)...)
	}
	addParts(&s, src)
	slices.SortStableFunc(s.Budgets, func(a, b BudgetStatus) int { return strings.Compare(a.Name, b.Name) })
	return s
}

// breakers snapshots the breakers of every registry in name order, then
// the breakers listed by themselves; a name met twice is shown once, the
// first time.
func breakers(src []Config) []BreakerStatus {
	var out []BreakerStatus
	seen := map[string]bool{}
	add := func(b *breaker.Breaker) {
		if b != nil && !seen[b.Name()] {
			seen[b.Name()] = true
			out = append(out, BreakerStatus{Snapshot: b.Snapshot(), of: b})
		}
	}
	for _, c := range src {
		if c.Registry != nil {
			for _, b := range c.Registry.All() {
				add(b)
			}
		}
	}
	for _, c := range src {
		for _, b := range c.Breakers {
			add(b)
		}
	}
	return out
}

// each snapshots every non-nil component of list.
func each[C any, S any](list []*C, snap func(*C) S) []S {
	var out []S
	for _, c := range list {
		if c != nil {
			out = append(out, snap(c))
		}
	}
	return out
}

// breakerTransition is the transition a breaker snapshot shows last.
func breakerTransition(s breaker.Snapshot) Transition {
	return Transition{State: s.State.String(), At: s.Since, Seq: s.Generation}
}

// targetTransition is the transition a target snapshot shows last.
func targetTransition(s health.TargetSnapshot) Transition {
	t := Transition{State: s.Status.String(), At: s.Since}
	if !s.Since.IsZero() {
		t.Seq = uint64(s.Since.UnixMicro())
	}
	return t
}
