package backoff

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// BudgetSnapshot reports a budget's counts over its current window. It is
// a plain value, free to copy and compare.
//
// It marshals to JSON with snake_case keys, the window both as a Go
// duration string and in seconds, unmarshals from the same form, and logs
// as a group of attributes:
//
//	{"requests":120,"retries":7,"refusals":0,"available":117,"window":"10s","window_seconds":10}
type BudgetSnapshot struct {
	Requests  int64 // calls counted by [Budget.Request]
	Retries   int64 // retries granted by [Budget.AllowRetry]
	Refusals  int64 // retries refused by [Budget.AllowRetry]
	Available int64 // retries AllowRetry would grant now
	// Window is how far back the counts reach.
	Window time.Duration
}

// Snapshot returns the counts of the current window.
func (b *Budget) Snapshot() BudgetSnapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance()
	return BudgetSnapshot{
		Requests:  b.sum.requests,
		Retries:   b.sum.retries,
		Refusals:  b.sum.refusals,
		Available: max(b.available(), 0),
		Window:    b.cfg.Window,
	}
}

// budgetSnapshotJSON is the wire form of a BudgetSnapshot.
type budgetSnapshotJSON struct {
	Requests      int64   `json:"requests"`
	Retries       int64   `json:"retries"`
	Refusals      int64   `json:"refusals"`
	Available     int64   `json:"available"`
	Window        string  `json:"window"`
	WindowSeconds float64 `json:"window_seconds"`
}

// MarshalJSON writes the snapshot as documented on [BudgetSnapshot].
func (s BudgetSnapshot) MarshalJSON() ([]byte, error) {
	return json.Marshal(budgetSnapshotJSON{s.Requests, s.Retries, s.Refusals, s.Available, s.Window.String(), s.Window.Seconds()})
}

// UnmarshalJSON reads what MarshalJSON writes, so that a client of a status
// page reads snapshots back; window_seconds is ignored.
func (s *BudgetSnapshot) UnmarshalJSON(data []byte) error {
	var w budgetSnapshotJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	var d time.Duration
	if w.Window != "" {
		var err error
		if d, err = time.ParseDuration(w.Window); err != nil {
			return fmt.Errorf("backoff: budget snapshot: %w", err)
		}
	}
	*s = BudgetSnapshot{Requests: w.Requests, Retries: w.Retries, Refusals: w.Refusals, Available: w.Available, Window: d}
	return nil
}

// LogValue presents the snapshot as a group of attributes named as in its
// JSON form. The window is logged as its string, the same under every
// handler.
func (s BudgetSnapshot) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int64("requests", s.Requests),
		slog.Int64("retries", s.Retries),
		slog.Int64("refusals", s.Refusals),
		slog.Int64("available", s.Available),
		slog.String("window", s.Window.String()),
	)
}

// RetrySnapshot reports a retry's counters since it was made, for metrics,
// which should read them rather than count events. It is a plain value.
//
// It marshals to JSON with snake_case keys:
//
//	{"name":"bank","retries":12,"exhausted":2}
type RetrySnapshot struct {
	Name string `json:"name"`
	// Retries counts the retries started (waits begun).
	Retries uint64 `json:"retries"`
	// Exhausted counts the calls that ended on a retryable error because
	// a limit stopped the retries: MaxAttempts, MaxDuration, the caller's
	// deadline, or the budget. Calls the caller cancelled are not counted.
	Exhausted uint64 `json:"exhausted"`
	// The calls that ended, by kind (resilience4j's names): successful at
	// the first attempt or after retries, failed without a retry (the error
	// was not retryable, or a limit allowed none) or after retries. An
	// error the pipeline judged a success counts as successful.
	SuccessfulWithoutRetry uint64 `json:"successful_without_retry"`
	SuccessfulWithRetry    uint64 `json:"successful_with_retry"`
	FailedWithoutRetry     uint64 `json:"failed_without_retry"`
	FailedWithRetry        uint64 `json:"failed_with_retry"`
}

// Snapshot returns the retry's counters. It is safe to call at any time,
// on a nil *Retry too.
func (r *Retry) Snapshot() RetrySnapshot {
	if r == nil {
		return RetrySnapshot{}
	}
	return RetrySnapshot{Name: r.name, Retries: r.retries.Load(), Exhausted: r.exhausted.Load(),
		SuccessfulWithoutRetry: r.calls[succeededFirst].Load(), SuccessfulWithRetry: r.calls[succeededLater].Load(),
		FailedWithoutRetry: r.calls[failedFirst].Load(), FailedWithRetry: r.calls[failedLater].Load()}
}

// LogValue presents the snapshot as a group of attributes named as in its
// JSON form.
func (s RetrySnapshot) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", s.Name),
		slog.Uint64("retries", s.Retries),
		slog.Uint64("exhausted", s.Exhausted),
		slog.Uint64("successful_without_retry", s.SuccessfulWithoutRetry),
		slog.Uint64("successful_with_retry", s.SuccessfulWithRetry),
		slog.Uint64("failed_without_retry", s.FailedWithoutRetry),
		slog.Uint64("failed_with_retry", s.FailedWithRetry),
	)
}
