package store

import (
	"context"
	"slices"
	"time"

	"github.com/riprap-go/riprap/payments"
)

// Next implements [Outbox.Next].
func (m *Memory) Next(ctx context.Context, lease Lease, limit int) ([]payments.Entry, error) {
	if err := CheckLease(lease); err != nil {
		return nil, err
	}
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var free []*queued
	for _, q := range m.outbox {
		if q.lease.Owner == lease.Owner || !lease.Now.Before(q.lease.Expires) {
			free = append(free, q)
		}
	}
	slices.SortFunc(free, func(a, b *queued) int { return compareSeq(a.seq, b.seq) })
	if limit > 0 && len(free) > limit {
		free = free[:limit]
	}
	out := make([]payments.Entry, len(free))
	for i, q := range free {
		q.lease = Claim{Owner: lease.Owner, Expires: lease.Expires()}
		out[i] = q.entry
	}
	return out, nil
}

func compareSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Ack implements [Outbox.Ack].
func (m *Memory) Ack(ctx context.Context, paymentIDs ...string) error {
	return m.dequeue(ctx, paymentIDs, Delivered, func(*queued) {})
}

// Refuse implements [Outbox.Refuse].
func (m *Memory) Refuse(ctx context.Context, paymentID, reason string, at time.Time) error {
	return m.dequeue(ctx, []string{paymentID}, SetAside, func(q *queued) {
		m.refused = append(m.refused, Refusal{Entry: q.entry, Reason: reason, At: at})
	})
}

// dequeue takes the queued entries of ids out of the outbox, marking
// their payments' log state; set is called for each, under the lock.
func (m *Memory) dequeue(ctx context.Context, ids []string, state LogState, set func(*queued)) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	for _, id := range ids {
		q, ok := m.outbox[id]
		if !ok {
			continue
		}
		delete(m.outbox, id)
		set(q)
		if r, ok := m.records[id]; ok {
			r.Log = state
		}
	}
	return nil
}

// Refused implements [Outbox.Refused].
func (m *Memory) Refused(ctx context.Context, limit int) ([]Refusal, error) {
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	out := m.refused
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return slices.Clone(out), nil
}

// Stats implements [Store.Stats].
func (m *Memory) Stats(ctx context.Context) (Stats, error) {
	if err := m.lock(ctx); err != nil {
		return Stats{}, err
	}
	defer m.mu.Unlock()
	s := Stats{Payments: map[State]int{}, Open: m.counts[""], Pending: m.counts[Pending], Outbox: len(m.outbox),
		Refused: len(m.refused), Reserved: len(m.open), MaxOutbox: m.cfg.MaxOutbox}
	for st, n := range m.counts {
		if st != "" && n > 0 {
			s.Payments[st] = n
		}
	}
	for _, r := range m.open { // every claim is on an open record
		if r.Claim.Held() {
			s.Claimed++
		}
	}
	return s, nil
}

// Close empties nothing and refuses later calls with [ErrClosed].
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
