package pgstore

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

// leaseNext leases the oldest free entries in one statement. SKIP LOCKED
// passes over entries another transaction is leasing, acknowledging or
// refusing at this moment, so replayers of a fleet never wait for one
// another and never lease the same entry at once.
var leaseNext = `UPDATE outbox AS o SET lease_owner = $1, lease_expires_ns = $3
	FROM (SELECT seq FROM outbox
		WHERE NOT refused AND (lease_owner IS NULL OR lease_owner = $1 OR lease_expires_ns <= $2)
		ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED) AS free
	WHERE o.seq = free.seq
	RETURNING o.seq, o.` + strings.Join(strings.Fields(strings.ReplaceAll(entryCols, ",", " ")), ", o.")

// Next implements [store.Outbox.Next].
func (s *Store) Next(ctx context.Context, lease store.Lease, limit int) ([]payments.Entry, error) {
	if err := store.CheckLease(lease); err != nil {
		return nil, err
	}
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	lim := sql.NullInt64{Int64: int64(limit), Valid: limit > 0} // LIMIT NULL: no limit
	rows, err := s.db.QueryContext(ctx, leaseNext, lease.Owner, nanos(lease.Now), nanos(lease.Expires()), lim)
	if err != nil {
		return nil, s.dbErr("lease log entries", err)
	}
	defer rows.Close()
	type leased struct {
		seq   int64
		entry payments.Entry
	}
	var got []leased
	for rows.Next() {
		var l leased
		var r entryRow
		if err := rows.Scan(append([]any{&l.seq}, r.dest()...)...); err != nil {
			return nil, s.dbErr("lease log entries", err)
		}
		if l.entry, err = r.decode(); err != nil {
			s.problem(err.Error()) // leased, so that it does not block the others; never returned
			continue
		}
		got = append(got, l)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbErr("lease log entries", err)
	}
	slices.SortFunc(got, func(a, b leased) int { return cmp.Compare(a.seq, b.seq) }) // RETURNING keeps no order
	out := make([]payments.Entry, len(got))
	for i, l := range got {
		out[i] = l.entry
	}
	return out, nil
}

// Ack implements [store.Outbox.Ack]: the entries leave the outbox, their
// payments' log state and the outbox's capacity move, in one
// transaction.
func (s *Store) Ack(ctx context.Context, paymentIDs ...string) error {
	if len(paymentIDs) == 0 {
		return s.usable(ctx)
	}
	ids := slices.Clone(paymentIDs)
	slices.Sort(ids) // rows are locked in one order by every Ack
	ids = slices.Compact(ids)
	return s.tx(ctx, "acknowledge log entries", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `WITH gone AS (
				DELETE FROM outbox WHERE payment_id = ANY($1) AND NOT refused RETURNING payment_id
			)
			UPDATE payments SET log = $2 FROM gone WHERE payments.key = gone.payment_id`,
			ids, int16(store.Delivered))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		return release(ctx, tx, int(n))
	})
}

// Refuse implements [store.Outbox.Refuse]: the entry stays in the table,
// marked refused, out of every lease.
func (s *Store) Refuse(ctx context.Context, paymentID, reason string, at time.Time) error {
	return s.tx(ctx, "refuse the log entry of "+paymentID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `WITH set_aside AS (
				UPDATE outbox SET refused = true, refused_reason = $2, refused_at_ns = $3,
					lease_owner = NULL, lease_expires_ns = NULL
				WHERE payment_id = $1 AND NOT refused RETURNING payment_id
			)
			UPDATE payments SET log = $4 FROM set_aside WHERE payments.key = set_aside.payment_id`,
			paymentID, reason, nanos(at), int16(store.SetAside))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		return release(ctx, tx, int(n))
	})
}

// Refused implements [store.Outbox.Refused], in the order the entries
// were queued.
func (s *Store) Refused(ctx context.Context, limit int) ([]store.Refusal, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	lim := sql.NullInt64{Int64: int64(limit), Valid: limit > 0}
	rows, err := s.db.QueryContext(ctx, "SELECT "+entryCols+", refused_reason, refused_at_ns FROM outbox WHERE refused ORDER BY seq LIMIT $1", lim)
	if err != nil {
		return nil, s.dbErr("read refused entries", err)
	}
	defer rows.Close()
	var out []store.Refusal
	for rows.Next() {
		var (
			r      entryRow
			reason string
			at     sql.NullInt64
		)
		if err := rows.Scan(append(r.dest(), &reason, &at)...); err != nil {
			return nil, s.dbErr("read refused entries", err)
		}
		e, err := r.decode()
		if err != nil {
			s.problem(err.Error())
			continue
		}
		out = append(out, store.Refusal{Entry: e, Reason: reason, At: timeOf(at)})
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbErr("read refused entries", err)
	}
	return out, nil
}
