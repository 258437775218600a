package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
)

// LogConfig configures a [Log]. The zero value is ready to use.
type LogConfig struct {
	// Seed seeds the fault draws when Source is nil, so that a run can be
	// replayed.
	Seed uint64
	// Source, when set, supplies the fault draws instead of a generator
	// seeded from Seed: a deterministic simulation derives every
	// component's source from one master seed. The log draws from it under
	// its lock only, so it must not be used elsewhere at the same time
	// unless it is safe for concurrent use.
	Source rand.Source
}

// LogFaults are the faults a [Log] injects itself, in-process, where one
// entry of a batch can fail alone; an [Injector] in front of its HTTP
// handler sees a batch as one request, and fails or delays it whole. The
// zero value injects nothing. It is plain data.
type LogFaults struct {
	// ErrorRate is the chance that one append — a call of Append, or one
	// entry of a batch — fails with a retryable error matching
	// [ErrInjected], the entry not stored, while the others of its batch
	// are stored.
	ErrorRate Chance
	// BatchErrorRate is the chance that a call of AppendBatch fails whole,
	// storing nothing.
	BatchErrorRate Chance
	// RetryAfter is carried by the injected errors (a RetryAfter method,
	// which the HTTP handler sends as Retry-After); 0 carries none.
	RetryAfter time.Duration
}

func (f LogFaults) validate() error {
	if err := checkChance("LogFaults", "ErrorRate", f.ErrorRate); err != nil {
		return err
	}
	if err := checkChance("LogFaults", "BatchErrorRate", f.BatchErrorRate); err != nil {
		return err
	}
	if f.RetryAfter < 0 {
		return configError("LogFaults", "RetryAfter", "must not be negative", f.RetryAfter)
	}
	return nil
}

// ErrInjected is matched by the errors a [Log] injects. They match
// httpapi.ErrOverloaded too — refused unprocessed, safe to retry — so the
// HTTP handler answers them 503, and payments.IsPermanent is false.
var ErrInjected = errors.New("sim: injected fault")

// injectedError is one injected refusal.
type injectedError struct {
	what  string
	after time.Duration
}

func (e *injectedError) Error() string { return "sim: injected fault: " + e.what }

// Is matches ErrInjected and httpapi.ErrOverloaded.
func (e *injectedError) Is(target error) bool {
	return target == ErrInjected || target == httpapi.ErrOverloaded
}

// RetryAfter returns the configured LogFaults.RetryAfter.
func (e *injectedError) RetryAfter() time.Duration { return e.after }

// LogStats counts what a [Log] did: a copy taken under the log's lock. It
// is plain data. Appends = Stored + Duplicates + Conflicts + Faults.
type LogStats struct {
	Appends     int // valid entries that reached the log, by Append or in a batch
	Stored      int // distinct entries stored
	Duplicates  int // repeats of a stored entry, accepted and not stored again
	Conflicts   int // different entries under a stored payment ID, refused
	Faults      int // entries refused by an injected fault (LogFaults.ErrorRate)
	Batches     int // calls of AppendBatch that reached the log
	BatchFaults int // batches refused whole by an injected fault
}

// Log is an in-memory payments.Log, idempotent by payment ID, with
// per-entry fault injection ([LogFaults]). Build it with [NewLog]; it is
// safe for concurrent use, and its faults can be changed while appends are
// in flight.
type Log struct {
	mu      sync.Mutex // protects everything below
	entries map[string]payments.Entry
	order   []string
	stats   LogStats
	faults  LogFaults
	rng     *rand.Rand
}

// NewLog returns an empty log with no faults; see [Log.SetFaults].
func NewLog(cfg LogConfig) *Log {
	return &Log{entries: make(map[string]payments.Entry), rng: newRand(cfg.Seed, cfg.Source)}
}

// SetFaults replaces the faults; invalid ones are refused (with a
// *resilience.ConfigError) and the old kept.
func (l *Log) SetFaults(f LogFaults) error {
	if err := f.validate(); err != nil {
		return err
	}
	l.mu.Lock()
	l.faults = f
	l.mu.Unlock()
	return nil
}

// Append implements payments.Log.
func (l *Log) Append(ctx context.Context, e payments.Entry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.appendLocked(e)
}

// AppendBatch implements payments.Log: the batch is applied under one
// lock, in order; each entry draws its own fault.
func (l *Log) AppendBatch(ctx context.Context, entries []payments.Entry) ([]error, error) {
	if err := payments.CheckBatch(entries); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	results := make([]error, len(entries))
	valid := make([]bool, len(entries))
	for i, e := range entries {
		results[i] = e.Validate()
		valid[i] = results[i] == nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats.Batches++
	if hit(l.rng, l.faults.BatchErrorRate) {
		l.stats.BatchFaults++
		return nil, &injectedError{what: "batch refused", after: l.faults.RetryAfter}
	}
	for i, e := range entries {
		if valid[i] {
			results[i] = l.appendLocked(e)
		}
	}
	return results, nil
}

// appendLocked appends one valid entry; l.mu is held.
func (l *Log) appendLocked(e payments.Entry) error {
	l.stats.Appends++
	if hit(l.rng, l.faults.ErrorRate) {
		l.stats.Faults++
		return &injectedError{what: fmt.Sprintf("entry %q not stored", e.PaymentID), after: l.faults.RetryAfter}
	}
	if old, ok := l.entries[e.PaymentID]; ok {
		if !old.Equal(e) {
			l.stats.Conflicts++
			return fmt.Errorf("%w: payment %q is logged with different content", payments.ErrIdempotencyConflict, e.PaymentID)
		}
		l.stats.Duplicates++
		return nil
	}
	l.entries[e.PaymentID] = e
	l.order = append(l.order, e.PaymentID)
	l.stats.Stored++
	return nil
}

// Entries returns the stored entries in the order first appended.
func (l *Log) Entries() []payments.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]payments.Entry, 0, len(l.order))
	for _, id := range l.order {
		out = append(out, l.entries[id])
	}
	return out
}

// Stats returns a copy of the counters.
func (l *Log) Stats() LogStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

var _ payments.Log = (*Log)(nil)
