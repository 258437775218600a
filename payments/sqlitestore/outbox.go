package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

// queuedEntry is an outbox row with its place.
type queuedEntry struct {
	seq int64
	row entryRow
}

// rewrite stores a changed outbox row, checksum and all.
func (b *batch) rewrite(q queuedEntry) error {
	q.row.crc = q.row.sum()
	_, err := b.tx.Exec(`UPDATE outbox SET lease_owner = ?, lease_expires = ?, refused_reason = ?, refused_at = ?, crc = ?
		WHERE seq = ?`, q.row.leaseOwner, q.row.leaseExpires, q.row.refusedReason, q.row.refusedAt, q.row.crc, q.seq)
	if err != nil {
		return b.s.sqlErr("write log entry", err)
	}
	return nil
}

// entries reads outbox rows in the batch's transaction. Damaged rows are
// listed as problems and left out (they stay queued on disk).
func (b *batch) entries(q string, args ...any) ([]queuedEntry, []payments.Entry, error) {
	rows, err := b.tx.Query("SELECT seq, "+entryCols+" FROM outbox "+q, args...)
	if err != nil {
		return nil, nil, b.s.sqlErr("read log entries", err)
	}
	defer rows.Close()
	var (
		raw []queuedEntry
		out []payments.Entry
	)
	for rows.Next() {
		var q queuedEntry
		if err := rows.Scan(append([]any{&q.seq}, q.row.dest()...)...); err != nil {
			return nil, nil, b.s.sqlErr("read log entries", err)
		}
		e, err := q.row.decode()
		if err != nil {
			b.s.problem(err)
			continue
		}
		raw, out = append(raw, q), append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, b.s.sqlErr("read log entries", err)
	}
	return raw, out, nil
}

// Next implements [store.Outbox.Next].
func (s *Store) Next(ctx context.Context, lease store.Lease, limit int) ([]payments.Entry, error) {
	if err := store.CheckLease(lease); err != nil {
		return nil, err
	}
	var out []payments.Entry
	err := s.write(ctx, func(b *batch) error {
		lim := int64(limit)
		if limit <= 0 {
			lim = -1 // SQLite: no limit
		}
		raw, es, err := b.entries(`WHERE refused_reason IS NULL
			AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires <= ?) ORDER BY seq LIMIT ?`,
			lease.Owner, unixNano(lease.Now), lim)
		if err != nil {
			return err
		}
		for _, q := range raw {
			q.row.leaseOwner = sql.NullString{String: lease.Owner, Valid: true}
			q.row.leaseExpires = sql.NullInt64{Int64: unixNano(lease.Expires()), Valid: true}
			if err := b.rewrite(q); err != nil {
				return err
			}
		}
		out = es
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// releaseLeases ends owner's outbox leases.
func (b *batch) releaseLeases(owner string) error {
	raw, _, err := b.entries("WHERE lease_owner = ?", owner)
	if err != nil {
		return err
	}
	for _, q := range raw {
		q.row.leaseOwner, q.row.leaseExpires = sql.NullString{}, sql.NullInt64{}
		if err := b.rewrite(q); err != nil {
			return err
		}
	}
	return nil
}

// Ack implements [store.Outbox.Ack].
func (s *Store) Ack(ctx context.Context, paymentIDs ...string) error {
	if len(paymentIDs) == 0 {
		return s.usable(ctx)
	}
	return s.write(ctx, func(b *batch) error {
		for _, id := range paymentIDs {
			res, err := b.tx.Exec("DELETE FROM outbox WHERE payment_id = ? AND refused_reason IS NULL", id)
			if err != nil {
				return b.s.sqlErr("remove log entry", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			b.counts.queued--
			if err := b.setLog(id, store.Delivered); err != nil {
				return err
			}
		}
		return nil
	})
}

// setLog records how far a payment's entry went.
func (b *batch) setLog(id string, st store.LogState) error {
	rec, err := b.mustLoad(id)
	if err != nil {
		return err
	}
	after := rec.Copy()
	after.Log = st
	return b.save(&rec, after)
}

// Refuse implements [store.Outbox.Refuse].
func (s *Store) Refuse(ctx context.Context, paymentID, reason string, at time.Time) error {
	return s.write(ctx, func(b *batch) error {
		raw, _, err := b.entries("WHERE payment_id = ? AND refused_reason IS NULL", paymentID)
		if err != nil || len(raw) == 0 {
			return err
		}
		q := raw[0]
		q.row.leaseOwner, q.row.leaseExpires = sql.NullString{}, sql.NullInt64{}
		q.row.refusedReason = sql.NullString{String: reason, Valid: true}
		q.row.refusedAt = sql.NullInt64{Int64: unixNano(at), Valid: true}
		if err := b.rewrite(q); err != nil {
			return err
		}
		b.counts.queued--
		b.counts.refused++
		return b.setLog(paymentID, store.SetAside)
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
