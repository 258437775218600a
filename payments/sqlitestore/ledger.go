package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

// The statements of the hot path, prepared once on the writer's
// connection (parsing them is most of a write's CPU).
var (
	selectPayment = "SELECT " + selectCols + " FROM payments WHERE key = ?"
	insertEntry   = "INSERT INTO outbox (" + entryCols + ") VALUES (?" + strings.Repeat(", ?", 13) + ")"
)

// insertPayment writes a new payments row; updatePayment rewrites one,
// taking the values of payCols with the key moved last.
var insertPayment, updatePayment = func() (string, string) {
	cols := strings.Fields(strings.ReplaceAll(payCols, ",", " "))
	set := make([]string, 0, len(cols))
	for _, c := range cols[1:] {
		set = append(set, c+" = ?")
	}
	return "INSERT INTO payments (" + payCols + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")",
		"UPDATE payments SET " + strings.Join(set, ", ") + " WHERE key = ?"
}()

// load reads the payment with key in the batch's transaction: nil when
// there is none. A payment under a claim is read from the writer's copy
// (see Store.claimed).
func (b *batch) load(key string) (*store.Record, error) {
	if rec, ok := b.cached(key); ok {
		return &rec, nil
	}
	var r payRow
	err := b.stmt(b.s.stmts.load).QueryRow(key).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, b.sqlErr("read payment", err)
	}
	rec, err := r.decode()
	if err != nil {
		b.s.problem(err)
		return nil, err
	}
	return &rec, nil
}

func (b *batch) mustLoad(key string) (store.Record, error) {
	rec, err := b.load(key)
	if err == nil && rec == nil {
		err = fmt.Errorf("%w: %q", store.ErrNotFound, key)
	}
	if err != nil {
		return store.Record{}, err
	}
	return *rec, nil
}

// save writes after over before (nil for a new payment) and moves the
// counts.
func (b *batch) save(before *store.Record, after store.Record) error {
	r := encodeRecord(after)
	st, args := b.s.stmts.insert, r.args()
	if before != nil {
		st, args = b.s.stmts.update, append(args[1:], args[0])
	}
	if _, err := b.exec(st, "write payment", args...); err != nil {
		return err
	}
	b.counts.replace(before, after)
	b.keep(after)
	return nil
}

// update applies rule to the payment with key and saves the result.
func (s *Store) update(ctx context.Context, key string, rule func(store.Record) (store.Record, error)) error {
	return s.write(ctx, func(b *batch) error {
		rec, err := b.mustLoad(key)
		if err != nil {
			return err
		}
		after, err := rule(rec)
		if err != nil {
			return err
		}
		return b.save(&rec, after)
	})
}

// Claim implements [store.Ledger.Claim]. A claim that needs a new outbox
// slot is refused (store.ErrFull) when none is left or when the file is
// within Config.Headroom of Config.MaxBytes; every claim is refused once
// the database was found damaged.
func (s *Store) Claim(ctx context.Context, req payments.PaymentRequest, lease store.Lease) (store.ClaimResult, error) {
	var res store.ClaimResult
	err := s.write(ctx, func(b *batch) error {
		if err := s.brokenErr(); err != nil {
			return err
		}
		stored, err := b.load(req.IdempotencyKey)
		if err != nil {
			return err
		}
		r, write, err := store.ApplyClaim(stored, req, lease)
		if err != nil || write == nil {
			res = r
			return err
		}
		if stored == nil || !stored.Result.State.Reserves() {
			if err := b.room(); err != nil {
				return err
			}
		}
		if err := b.save(stored, *write); err != nil {
			return err
		}
		res = r
		return nil
	})
	if err != nil {
		return store.ClaimResult{}, err
	}
	return res, nil
}

// room refuses a new reservation when the outbox bound or the file's size
// cap leaves no room for it.
func (b *batch) room() error {
	c := b.s.cfg
	if b.counts.queued+b.counts.reserved() >= c.Store.MaxOutbox {
		return store.Full(b.s.name, c.Store.FullRetryAfter)
	}
	if c.MaxBytes <= 0 {
		return nil
	}
	var used int64
	err := b.tx.QueryRow("SELECT (SELECT page_count FROM pragma_page_count) - (SELECT freelist_count FROM pragma_freelist_count)").Scan(&used)
	if err != nil {
		return b.sqlErr("read the file's size", err)
	}
	if limit := float64(max(c.MaxBytes/pageSize, 1)) * (1 - c.Headroom); float64(used) >= limit {
		return store.Full(b.s.name, c.Store.FullRetryAfter)
	}
	return nil
}

// SaveSettlement implements [store.Ledger.SaveSettlement].
func (s *Store) SaveSettlement(ctx context.Context, key, token string, settled payments.Money, quote *payments.Quote) error {
	return s.update(ctx, key, func(r store.Record) (store.Record, error) {
		rec, _, err := store.ApplySettlement(r, token, settled, quote)
		return rec, err
	})
}

// MarkStarted implements [store.Ledger.MarkStarted].
func (s *Store) MarkStarted(ctx context.Context, key, token, bank string) error {
	return s.update(ctx, key, func(r store.Record) (store.Record, error) { return store.ApplyStart(r, token, bank) })
}

// MarkRefused implements [store.Ledger.MarkRefused]; a bank listed
// already costs no write.
func (s *Store) MarkRefused(ctx context.Context, key, token, bank string) error {
	return s.write(ctx, func(b *batch) error {
		rec, err := b.mustLoad(key)
		if err != nil {
			return err
		}
		after, changed, err := store.ApplyRefused(rec, token, bank)
		if err != nil || !changed {
			return err
		}
		return b.save(&rec, after)
	})
}

// Postpone implements [store.Ledger.Postpone].
func (s *Store) Postpone(ctx context.Context, key, token string, next time.Time, wait time.Duration) error {
	return s.update(ctx, key, func(r store.Record) (store.Record, error) {
		return store.ApplyPostpone(r, token, next, wait)
	})
}

// Finish implements [store.Ledger.Finish]: the result and the entry are
// written in one transaction.
func (s *Store) Finish(ctx context.Context, key, token string, r store.Result, entry *payments.Entry) error {
	return s.write(ctx, func(b *batch) error {
		rec, err := b.mustLoad(key)
		if err != nil {
			return err
		}
		after, queue, err := store.ApplyFinish(rec, token, r, entry)
		if err != nil {
			return err
		}
		if err := b.save(&rec, after); err != nil {
			return err
		}
		if !queue {
			return nil
		}
		e := encodeEntry(*entry)
		res, err := b.exec(b.s.stmts.insertEntry, "queue log entry", e.args()...)
		if err != nil {
			return err
		}
		seq, err := res.LastInsertId()
		if err != nil {
			return b.sqlErr("queue log entry", err)
		}
		b.counts.queued++
		b.queued = append(b.queued, &queued{seq: seq, entry: *entry})
		return nil
	})
}

// DuePending implements [store.Ledger.DuePending].
func (s *Store) DuePending(ctx context.Context, lease store.Lease, dueBy time.Time, limit int) ([]store.Record, error) {
	if err := store.CheckLease(lease); err != nil {
		return nil, err
	}
	var out []store.Record
	err := s.write(ctx, func(b *batch) error {
		out = nil
		candidates, err := b.query(`SELECT `+selectCols+` FROM payments WHERE state IN ('', 'pending_reconciliation')
			AND (claim_expires IS NULL OR claim_expires <= ?) ORDER BY next_check, key`, unixNano(lease.Now))
		if err != nil {
			return err
		}
		for _, rec := range candidates {
			if limit > 0 && len(out) == limit {
				break
			}
			if due, ok := store.ApplyDue(rec, lease, dueBy); ok {
				if err := b.save(&rec, due); err != nil {
					return err
				}
				out = append(out, due)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Expire implements [store.Ledger.Expire].
func (s *Store) Expire(ctx context.Context, owner string) (int, error) {
	n := 0
	err := s.write(ctx, func(b *batch) error {
		n = 0
		held, err := b.query("SELECT "+selectCols+" FROM payments WHERE claim_owner = ?", owner)
		if err != nil {
			return err
		}
		for _, rec := range held {
			free := rec.Copy()
			free.Claim = store.Claim{}
			if err := b.save(&rec, free); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err == nil {
		s.mu.Lock()
		s.queue.release(owner)
		s.mu.Unlock()
	}
	return n, err
}

// query reads payments in the batch's transaction; damaged rows are
// listed as problems and left out, not dropped from the file.
func (b *batch) query(q string, args ...any) ([]store.Record, error) {
	rows, err := b.tx.Query(q, args...)
	if err != nil {
		return nil, b.sqlErr("read payments", err)
	}
	defer rows.Close()
	var out []store.Record
	for rows.Next() {
		var r payRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, b.sqlErr("read payments", err)
		}
		rec, err := r.decode()
		if err != nil {
			b.s.problem(err)
			continue
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, b.sqlErr("read payments", err)
	}
	return out, nil
}

// Lookup implements [store.Ledger.Lookup], on a read-only connection.
func (s *Store) Lookup(ctx context.Context, key string) (store.Record, error) {
	if err := s.usable(ctx); err != nil {
		return store.Record{}, err
	}
	var r payRow
	err := s.ro.QueryRowContext(ctx, selectPayment, key).Scan(r.dest()...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Record{}, fmt.Errorf("%w: %q", store.ErrNotFound, key)
	case err != nil:
		return store.Record{}, s.sqlErr("read payment", err)
	}
	rec, err := r.decode()
	if err != nil {
		s.problem(err)
	}
	return rec, err
}
