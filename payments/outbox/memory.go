package outbox

import (
	"fmt"
	"slices"
	"sync"

	"github.com/riprap-go/riprap/payments"
)

// Memory is an [Outbox] held in memory: it survives nothing, and serves
// tests and demos. Build it with [NewMemory]; it is safe for concurrent use.
type Memory struct {
	max int

	mu     sync.Mutex // protects everything below
	items  []Item     // pending, by ascending Seq
	ids    map[string]struct{}
	next   uint64
	closed bool
}

// NewMemory returns an empty in-memory outbox.
func NewMemory(cfg Config) (*Memory, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	return &Memory{max: cfg.MaxEntries, ids: make(map[string]struct{}), next: 1}, nil
}

// Put implements [Outbox].
func (m *Memory) Put(e payments.Entry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
		return ErrClosed
	case hasID(m.ids, e.PaymentID):
		return nil
	case len(m.items) >= m.max:
		return fmt.Errorf("%w: %d entries pending", ErrFull, len(m.items))
	}
	m.items = append(m.items, Item{Seq: m.next, Entry: e})
	m.ids[e.PaymentID] = struct{}{}
	m.next++
	return nil
}

// Pending implements [Outbox].
func (m *Memory) Pending() []Item {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.items)
}

// Ack implements [Outbox].
func (m *Memory) Ack(seq uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if i, ok := findSeq(m.items, seq); ok {
		delete(m.ids, m.items[i].Entry.PaymentID)
		m.items = slices.Delete(m.items, i, i+1)
	}
	return nil
}

// Len implements [Outbox].
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}

// Close implements [Outbox].
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

func hasID(ids map[string]struct{}, id string) bool {
	_, ok := ids[id]
	return ok
}

// findSeq finds seq in items sorted by Seq.
func findSeq(items []Item, seq uint64) (int, bool) {
	return slices.BinarySearchFunc(items, seq, func(it Item, s uint64) int {
		switch {
		case it.Seq < s:
			return -1
		case it.Seq > s:
			return 1
		}
		return 0
	})
}

var _ Outbox = (*Memory)(nil)
