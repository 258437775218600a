package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/riprap-go/riprap/payments"
)

// Memory is a [Store] held in memory, for tests and benchmarks: it forgets
// everything when the process ends. It is safe for concurrent use; its zero
// value is not usable (use [NewMemory]).
type Memory struct {
	cfg Config

	mu      sync.Mutex // protects everything below
	closed  bool
	records map[string]*Record
	open    map[string]*Record // the records whose state reserves a slot
	counts  map[State]int      // records by state
	outbox  map[string]*queued // by payment ID
	seq     uint64             // of the latest entry queued
	refused []Refusal
}

// queued is an entry in the outbox, with its place and its lease.
type queued struct {
	seq   uint64
	entry payments.Entry
	lease Claim // Owner and Expires only
}

// NewMemory returns an empty in-memory store, or a
// [*resilience.ConfigError] for a negative field of cfg.
func NewMemory(cfg Config) (*Memory, error) {
	cfg, err := cfg.Resolve("store")
	if err != nil {
		return nil, err
	}
	return &Memory{cfg: cfg, records: map[string]*Record{}, open: map[string]*Record{},
		counts: map[State]int{}, outbox: map[string]*queued{}}, nil
}

// lock takes the lock unless the store is closed or ctx is done.
func (m *Memory) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// put stores rec, keeping the open set and the counts in step.
func (m *Memory) put(rec Record) {
	if old, ok := m.records[rec.Key()]; ok {
		m.counts[old.Result.State]--
	}
	m.counts[rec.Result.State]++
	r := &rec
	m.records[rec.Key()] = r
	if rec.Result.State.Reserves() {
		m.open[rec.Key()] = r
	} else {
		delete(m.open, rec.Key())
	}
}

func (m *Memory) get(key string) (*Record, error) {
	r, ok := m.records[key]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	return r, nil
}

// Claim implements [Ledger.Claim].
func (m *Memory) Claim(ctx context.Context, req payments.PaymentRequest, lease Lease) (ClaimResult, error) {
	if err := m.lock(ctx); err != nil {
		return ClaimResult{}, err
	}
	defer m.mu.Unlock()
	stored := m.records[req.IdempotencyKey]
	res, write, err := ApplyClaim(stored, req, lease)
	if err != nil || write == nil {
		return res, err
	}
	if stored == nil || !stored.Result.State.Reserves() {
		if len(m.outbox)+len(m.open) >= m.cfg.MaxOutbox {
			return ClaimResult{}, Full("memory", m.cfg.FullRetryAfter)
		}
	}
	m.put(*write)
	return res, nil
}

// SaveSettlement implements [Ledger.SaveSettlement].
func (m *Memory) SaveSettlement(ctx context.Context, key, token string, settled payments.Money, quote *payments.Quote) error {
	return m.update(ctx, key, func(r Record) (Record, error) {
		rec, _, err := ApplySettlement(r, token, settled, quote)
		return rec, err
	})
}

// MarkStarted implements [Ledger.MarkStarted].
func (m *Memory) MarkStarted(ctx context.Context, key, token, bank string) error {
	return m.update(ctx, key, func(r Record) (Record, error) { return ApplyStart(r, token, bank) })
}

// MarkRefused implements [Ledger.MarkRefused].
func (m *Memory) MarkRefused(ctx context.Context, key, token, bank string) error {
	return m.update(ctx, key, func(r Record) (Record, error) {
		rec, _, err := ApplyRefused(r, token, bank)
		return rec, err
	})
}

// Postpone implements [Ledger.Postpone].
func (m *Memory) Postpone(ctx context.Context, key, token string, next time.Time, wait time.Duration) error {
	return m.update(ctx, key, func(r Record) (Record, error) { return ApplyPostpone(r, token, next, wait) })
}

func (m *Memory) update(ctx context.Context, key string, rule func(Record) (Record, error)) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	r, err := m.get(key)
	if err != nil {
		return err
	}
	rec, err := rule(*r)
	if err != nil {
		return err
	}
	m.put(rec)
	return nil
}

// Finish implements [Ledger.Finish].
func (m *Memory) Finish(ctx context.Context, key, token string, r Result, entry *payments.Entry) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	stored, err := m.get(key)
	if err != nil {
		return err
	}
	rec, queue, err := ApplyFinish(*stored, token, r, entry)
	if err != nil {
		return err
	}
	m.put(rec)
	if queue {
		m.seq++
		m.outbox[key] = &queued{seq: m.seq, entry: *entry}
	}
	return nil
}

// DuePending implements [Ledger.DuePending].
func (m *Memory) DuePending(ctx context.Context, lease Lease, dueBy time.Time, limit int) ([]Record, error) {
	if err := CheckLease(lease); err != nil {
		return nil, err
	}
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var due []Record
	for _, r := range m.open {
		if rec, ok := ApplyDue(*r, lease, dueBy); ok {
			due = append(due, rec)
		}
	}
	slices.SortFunc(due, func(a, b Record) int {
		return cmp.Or(a.NextCheck.Compare(b.NextCheck), cmp.Compare(a.Key(), b.Key()))
	})
	if limit > 0 && len(due) > limit {
		due = due[:limit]
	}
	for i := range due {
		m.put(due[i])
		due[i] = due[i].Copy()
	}
	return due, nil
}

// Expire implements [Ledger.Expire].
func (m *Memory) Expire(ctx context.Context, owner string) (int, error) {
	if err := m.lock(ctx); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	n := 0
	for _, r := range m.open { // every claim is on an open record
		if r.Claim.Held() && r.Claim.Owner == owner {
			r.Claim = Claim{}
			n++
		}
	}
	for _, q := range m.outbox {
		if q.lease.Owner == owner {
			q.lease = Claim{}
		}
	}
	return n, nil
}

// Lookup implements [Ledger.Lookup].
func (m *Memory) Lookup(ctx context.Context, key string) (Record, error) {
	if err := m.lock(ctx); err != nil {
		return Record{}, err
	}
	defer m.mu.Unlock()
	r, err := m.get(key)
	if err != nil {
		return Record{}, err
	}
	return r.Copy(), nil
}
