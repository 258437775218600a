package pgstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/riprap-go/riprap/payments/store"
)

// selectDue finds what [store.ApplyDue] takes: payments under no live
// claim that are pending and due, or open and never sent (orphans of a
// claimant that went away). SKIP LOCKED passes over rows another
// transaction holds, so reconcilers of a fleet running at once take
// disjoint sets instead of queueing behind one another.
const selectDue = `SELECT ` + payCols + ` FROM payments
	WHERE state IN ('', 'pending_reconciliation')
	  AND (claim_expires_ns IS NULL OR claim_expires_ns <= $1)
	  AND ((state = 'pending_reconciliation' AND (next_check_ns IS NULL OR next_check_ns <= $2))
	    OR (state = '' AND NOT started))
	ORDER BY next_check_ns NULLS FIRST, key
	LIMIT $3
	FOR UPDATE SKIP LOCKED`

// DuePending implements [store.Ledger.DuePending]: the due payments are
// selected and locked (skipping rows other transactions hold), checked
// against store.ApplyDue, and claimed for lease, each with its own token,
// in one transaction.
func (s *Store) DuePending(ctx context.Context, lease store.Lease, dueBy time.Time, limit int) ([]store.Record, error) {
	if err := store.CheckLease(lease); err != nil {
		return nil, err
	}
	var out []store.Record
	err := s.tx(ctx, "claim due payments", func(tx *sql.Tx) error {
		out = nil
		due, err := s.selectDue(ctx, tx, lease, dueBy, limit)
		if err != nil || len(due) == 0 {
			return err
		}
		keys, tokens := make([]string, len(due)), make([]string, len(due))
		for i, r := range due {
			keys[i], tokens[i] = r.Key(), r.Claim.Token
		}
		_, err = tx.ExecContext(ctx, `UPDATE payments AS p
			SET claim_token = c.token, claim_owner = $3, claim_expires_ns = $4
			FROM unnest($1::text[], $2::text[]) AS c (key, token) WHERE p.key = c.key`,
			keys, tokens, lease.Owner, nanos(lease.Expires()))
		out = due
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// selectDue reads and locks the due payments and returns them claimed
// for lease (not yet written). A row that cannot be read is listed in
// Stats.Problems and left alone.
func (s *Store) selectDue(ctx context.Context, tx *sql.Tx, lease store.Lease, dueBy time.Time, limit int) ([]store.Record, error) {
	lim := sql.NullInt64{Int64: int64(limit), Valid: limit > 0} // LIMIT NULL: no limit
	rows, err := tx.QueryContext(ctx, selectDue, nanos(lease.Now), nanos(dueBy), lim)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var due []store.Record
	for rows.Next() {
		var r payRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		rec, err := r.decode()
		if err != nil {
			s.problem(err.Error())
			continue
		}
		if claimed, ok := store.ApplyDue(rec, lease, dueBy); ok {
			due = append(due, claimed)
		}
	}
	return due, rows.Err()
}

// Expire implements [store.Ledger.Expire]: owner's payment claims and
// outbox leases end in one statement.
func (s *Store) Expire(ctx context.Context, owner string) (int, error) {
	n := 0
	err := s.tx(ctx, "expire the claims of "+owner, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `WITH leases AS (
				UPDATE outbox SET lease_owner = NULL, lease_expires_ns = NULL WHERE lease_owner = $1
			)
			UPDATE payments SET claim_token = NULL, claim_owner = NULL, claim_expires_ns = NULL
			WHERE claim_owner = $1`, owner)
		if err != nil {
			return err
		}
		ended, err := res.RowsAffected()
		n = int(ended)
		return err
	})
	return n, err
}
