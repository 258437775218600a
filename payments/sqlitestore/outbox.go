package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

// The outbox statements of the hot path (see prepared).
const ackEntry = "DELETE FROM outbox WHERE payment_id = ? AND refused_reason IS NULL"

// Next implements [store.Outbox.Next], from the queue held in memory: no
// transaction, no write (see queue).
func (s *Store) Next(ctx context.Context, lease store.Lease, limit int) ([]payments.Entry, error) {
	if err := store.CheckLease(lease); err != nil {
		return nil, err
	}
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queue.next(lease.Owner, lease.Now, lease.Expires(), limit), nil
}

// Ack implements [store.Outbox.Ack].
func (s *Store) Ack(ctx context.Context, paymentIDs ...string) error {
	if len(paymentIDs) == 0 {
		return s.usable(ctx)
	}
	return s.write(ctx, func(b *batch) error {
		for _, id := range paymentIDs {
			res, err := b.exec(b.s.stmts.ackEntry, "remove log entry", id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			b.counts.queued-- // the payment's LogState follows (see selectCols)
			b.dequeued = append(b.dequeued, id)
		}
		return nil
	})
}

// Refuse implements [store.Outbox.Refuse].
func (s *Store) Refuse(ctx context.Context, paymentID, reason string, at time.Time) error {
	return s.write(ctx, func(b *batch) error {
		var seq int64
		var r entryRow
		err := b.tx.QueryRow("SELECT seq, "+entryCols+" FROM outbox WHERE payment_id = ? AND refused_reason IS NULL",
			paymentID).Scan(append([]any{&seq}, r.dest()...)...)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return b.sqlErr("read log entry", err)
		}
		if _, err := r.decode(); err != nil {
			b.s.problem(err) // kept as it is, not re-signed
			return nil
		}
		r.leaseOwner, r.leaseExpires = sql.NullString{}, sql.NullInt64{}
		r.refusedReason = sql.NullString{String: reason, Valid: true}
		r.refusedAt = sql.NullInt64{Int64: unixNano(at), Valid: true}
		r.crc = r.sum()
		b.touched, b.wrote = true, true
		if _, err := b.tx.Exec(`UPDATE outbox SET lease_owner = NULL, lease_expires = NULL, refused_reason = ?,
			refused_at = ?, crc = ? WHERE seq = ?`, r.refusedReason, r.refusedAt, r.crc, seq); err != nil {
			return b.sqlErr("set log entry aside", err)
		}
		b.counts.queued--
		b.counts.refused++
		b.dequeued = append(b.dequeued, paymentID)
		return nil
	})
}

// Refused implements [store.Outbox.Refused], on a read-only connection.
func (s *Store) Refused(ctx context.Context, limit int) ([]store.Refusal, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	lim := int64(limit)
	if limit <= 0 {
		lim = -1
	}
	rows, err := s.ro.QueryContext(ctx, "SELECT "+entryCols+" FROM outbox WHERE refused_reason IS NOT NULL ORDER BY seq LIMIT ?", lim)
	if err != nil {
		return nil, s.sqlErr("read refused entries", err)
	}
	defer rows.Close()
	var out []store.Refusal
	for rows.Next() {
		var r entryRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, s.sqlErr("read refused entries", err)
		}
		e, err := r.decode()
		if err != nil {
			s.problem(err)
			continue
		}
		out = append(out, store.Refusal{Entry: e, Reason: r.refusedReason.String, At: fromUnixNano(r.refusedAt.Int64)})
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, s.sqlErr("read refused entries", err)
	}
	return out, nil
}
