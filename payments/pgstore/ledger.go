package pgstore

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

// The statements writing a whole payments row.
var (
	insertPayment = "INSERT INTO payments (" + payCols + ") VALUES (" + placeholders(1, 32) +
		") ON CONFLICT (key) DO NOTHING"
	updatePayment = func() string {
		cols := strings.Fields(strings.ReplaceAll(payCols, ",", " "))
		set := make([]string, 0, len(cols)-1)
		for i, c := range cols[1:] {
			set = append(set, fmt.Sprintf("%s = $%d", c, i+2))
		}
		return "UPDATE payments SET " + strings.Join(set, ", ") + " WHERE key = $1"
	}()
)

// placeholders returns "$from, …, $to".
func placeholders(from, to int) string {
	ps := make([]string, 0, to-from+1)
	for i := from; i <= to; i++ {
		ps = append(ps, fmt.Sprintf("$%d", i))
	}
	return strings.Join(ps, ", ")
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// load reads the payment with key, nil when there is none; lock takes its
// row lock until the transaction ends (SELECT … FOR UPDATE).
func (s *Store) load(ctx context.Context, q querier, key string, lock bool) (*store.Record, error) {
	query := "SELECT " + payCols + " FROM payments WHERE key = $1"
	if lock {
		query += " FOR UPDATE"
	}
	var r payRow
	err := q.QueryRowContext(ctx, query, key).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rec, err := r.decode()
	if err != nil {
		s.problem(err.Error())
		return nil, err
	}
	return &rec, nil
}

// lock reads and locks the payment with key, or fails with
// store.ErrNotFound.
func (s *Store) lock(ctx context.Context, tx *sql.Tx, key string) (store.Record, error) {
	rec, err := s.load(ctx, tx, key, true)
	if err == nil && rec == nil {
		err = fmt.Errorf("%w: %q", store.ErrNotFound, key)
	}
	if err != nil {
		return store.Record{}, err
	}
	return *rec, nil
}

func save(ctx context.Context, tx *sql.Tx, rec store.Record) error {
	r := encodeRecord(rec)
	_, err := tx.ExecContext(ctx, updatePayment, r.args()...)
	return err
}

// reserve takes one slot of the outbox's capacity, or refuses with
// store.ErrFull when none is left. The counter's row lock, held to the
// end of the transaction, makes concurrent claims take slots one after
// the other, so the bound holds across a fleet.
func (s *Store) reserve(ctx context.Context, tx *sql.Tx) error {
	res, err := tx.ExecContext(ctx, `UPDATE outbox_capacity SET used = used + 1 WHERE used < $1`, s.cfg.Store.MaxOutbox)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	switch {
	case err != nil:
		return err
	case n == 0:
		return store.Full(s.cfg.Name, s.cfg.Store.FullRetryAfter)
	}
	return nil
}

// release frees n slots. It never takes the counter below zero: a counter
// that drifted must not make a payment's Finish fail after the bank moved
// money; Stats lists the drift in Problems instead.
func release(ctx context.Context, tx *sql.Tx, n int) error {
	if n == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE outbox_capacity SET used = greatest(used - $1, 0)`, n)
	return err
}

// Claim implements [store.Ledger.Claim]. A new key is inserted (a
// concurrent claim of the same key waits for the insert and then finds the
// row); a stored payment is read under its row lock, decided by
// store.ApplyClaim and written back, so two instances never both claim
// it. A claim that needs a new outbox slot takes it in the same
// transaction, or is refused with store.ErrFull.
func (s *Store) Claim(ctx context.Context, req payments.PaymentRequest, lease store.Lease) (store.ClaimResult, error) {
	// The record of a new key; bad input is refused here, before any
	// round trip.
	fresh, rec, err := store.ApplyClaim(nil, req, lease)
	if err != nil {
		return store.ClaimResult{}, err
	}
	var res store.ClaimResult
	err = s.tx(ctx, "claim "+req.IdempotencyKey, func(tx *sql.Tx) error {
		res, err = s.claim(ctx, tx, fresh, *rec, lease)
		return err
	})
	if err != nil {
		return store.ClaimResult{}, err
	}
	return res, nil
}

// claim inserts rec, the record of a new key, or decides the claim on the
// stored payment that stands in its way.
func (s *Store) claim(ctx context.Context, tx *sql.Tx, fresh store.ClaimResult, rec store.Record, lease store.Lease) (store.ClaimResult, error) {
	row := encodeRecord(rec)
	ins, err := tx.ExecContext(ctx, insertPayment, row.args()...)
	if err != nil {
		return fresh, err
	}
	inserted, err := ins.RowsAffected()
	switch {
	case err != nil:
		return fresh, err
	case inserted == 1:
		return fresh, s.reserve(ctx, tx)
	}
	stored, err := s.lock(ctx, tx, rec.Key())
	if err != nil {
		return fresh, err
	}
	res, write, err := store.ApplyClaim(&stored, rec.Request, lease)
	if err != nil || write == nil {
		return res, err
	}
	if err := save(ctx, tx, *write); err != nil {
		return res, err
	}
	if !stored.Result.State.Reserves() {
		return res, s.reserve(ctx, tx)
	}
	return res, nil
}

// update applies rule to the payment with key under its row lock.
func (s *Store) update(ctx context.Context, what, key string, rule func(store.Record) (store.Record, error)) error {
	return s.tx(ctx, what+" "+key, func(tx *sql.Tx) error {
		rec, err := s.lock(ctx, tx, key)
		if err != nil {
			return err
		}
		after, err := rule(rec)
		if err != nil {
			return err
		}
		return save(ctx, tx, after)
	})
}

// SaveSettlement implements [store.Ledger.SaveSettlement].
func (s *Store) SaveSettlement(ctx context.Context, key, token string, settled payments.Money, quote *payments.Quote) error {
	return s.update(ctx, "save settlement of", key, func(r store.Record) (store.Record, error) {
		rec, _, err := store.ApplySettlement(r, token, settled, quote)
		return rec, err
	})
}

// MarkStarted implements [store.Ledger.MarkStarted].
func (s *Store) MarkStarted(ctx context.Context, key, token, bank string) error {
	return s.update(ctx, "mark started", key, func(r store.Record) (store.Record, error) {
		return store.ApplyStart(r, token, bank)
	})
}

// MarkRefused implements [store.Ledger.MarkRefused].
func (s *Store) MarkRefused(ctx context.Context, key, token, bank string) error {
	return s.update(ctx, "mark refused", key, func(r store.Record) (store.Record, error) {
		rec, _, err := store.ApplyRefused(r, token, bank)
		return rec, err
	})
}

// Postpone implements [store.Ledger.Postpone].
func (s *Store) Postpone(ctx context.Context, key, token string, next time.Time, wait time.Duration) error {
	return s.update(ctx, "postpone", key, func(r store.Record) (store.Record, error) {
		return store.ApplyPostpone(r, token, next, wait)
	})
}

// Finish implements [store.Ledger.Finish]: the result, the log entry and
// the capacity the payment no longer needs are written in one
// transaction, under the payment's row lock. It never needs a new slot
// (the claim reserved one), so it never fails for lack of room.
func (s *Store) Finish(ctx context.Context, key, token string, r store.Result, entry *payments.Entry) error {
	if err := store.CheckFinish(key, r, entry); err != nil {
		return err
	}
	return s.tx(ctx, "finish "+key, func(tx *sql.Tx) error {
		rec, err := s.lock(ctx, tx, key)
		if err != nil {
			return err
		}
		after, queue, err := store.ApplyFinish(rec, token, r, entry)
		if err != nil {
			return err
		}
		if err := save(ctx, tx, after); err != nil {
			return err
		}
		freed := b2i(rec.Result.State.Reserves()) - b2i(after.Result.State.Reserves())
		if queue {
			e := encodeEntry(*entry)
			if _, err := tx.ExecContext(ctx, "INSERT INTO outbox ("+entryCols+") VALUES ("+placeholders(1, 9)+")",
				e.args()...); err != nil {
				return err
			}
			freed--
		}
		return release(ctx, tx, freed)
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Lookup implements [store.Ledger.Lookup]: one read, no lock.
func (s *Store) Lookup(ctx context.Context, key string) (store.Record, error) {
	if err := s.usable(ctx); err != nil {
		return store.Record{}, err
	}
	rec, err := s.load(ctx, s.db, key, false)
	switch {
	case err != nil:
		return store.Record{}, s.dbErr("look up "+key, err)
	case rec == nil:
		return store.Record{}, fmt.Errorf("%w: %q", store.ErrNotFound, key)
	}
	return *rec, nil
}
