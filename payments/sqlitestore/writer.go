package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/riprap-go/riprap/payments/store"
)

// op is one write: one state change of the ledger or the outbox.
type op struct {
	ctx  context.Context
	run  func(w *batch) error
	done chan error
}

// batch is the transaction a group of writes shares, and its view of the
// counts as the writes before it left them.
type batch struct {
	s      *Store
	tx     *sql.Tx
	counts counts
	alone  bool                    // one op: no savepoint, the transaction is its
	stmts  map[*sql.Stmt]*sql.Stmt // prepared statements, bound to tx
}

// stmt returns st bound to the batch's transaction (on the writer's one
// connection database/sql reuses the prepared statement).
func (b *batch) stmt(st *sql.Stmt) *sql.Stmt {
	if t, ok := b.stmts[st]; ok {
		return t
	}
	t := b.tx.Stmt(st)
	b.stmts[st] = t
	return t
}

// prepared are the statements of the hot path.
type prepared struct {
	load, upsert, insertEntry *sql.Stmt
}

func prepare(ctx context.Context, db *sql.DB) (prepared, error) {
	var p prepared
	for _, s := range []struct {
		to  **sql.Stmt
		sql string
	}{{&p.load, selectPayment}, {&p.upsert, upsertPayment}, {&p.insertEntry, insertEntry}} {
		st, err := db.PrepareContext(ctx, s.sql)
		if err != nil {
			return p, err
		}
		*s.to = st
	}
	return p, nil
}

// write runs fn as one atomic write and returns once it is durable (or
// failed). Writes from concurrent callers are committed together, one
// transaction and one fsync for the lot (group commit), each in its own
// savepoint so that one failing leaves the others whole.
func (s *Store) write(ctx context.Context, fn func(w *batch) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := &op{ctx: ctx, run: fn, done: make(chan error, 1)}
	select {
	case s.ops <- o:
	case <-s.stop:
		return store.ErrClosed
	}
	select {
	case err := <-o.done:
		return err
	case <-s.done:
		// The writer answers every op it took before it ends; one it never
		// took was refused.
		select {
		case err := <-o.done:
			return err
		default:
			return store.ErrClosed
		}
	}
}

// writeLoop is the store's single writer: it takes the writes waiting, up
// to MaxBatch, and commits them in one transaction. It ends with Close.
func (s *Store) writeLoop() {
	defer close(s.done)
	for {
		var first *op
		select {
		case first = <-s.ops:
		case <-s.stop:
			s.refuseWaiting()
			return
		}
		ops := []*op{first}
	more:
		for len(ops) < s.cfg.MaxBatch {
			select {
			case o := <-s.ops:
				ops = append(ops, o)
			default:
				break more
			}
		}
		s.commit(ops)
	}
}

// refuseWaiting answers the writes still queued once the store closes.
func (s *Store) refuseWaiting() {
	for {
		select {
		case o := <-s.ops:
			o.done <- store.ErrClosed
		default:
			return
		}
	}
}

// commit runs ops in one transaction. An op whose caller has gone, or
// that fails, is rolled back to its savepoint; the others commit. When the
// transaction itself fails, every op fails with its error and the counts
// stay as they were.
func (s *Store) commit(ops []*op) {
	results := make([]error, len(ops))
	ctx := context.Background() // the batch outlives any one caller
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		s.answer(ops, results, s.sqlErr("begin", err))
		return
	}
	s.mu.Lock()
	b := &batch{s: s, tx: tx, counts: s.counts, alone: len(ops) == 1, stmts: map[*sql.Stmt]*sql.Stmt{}}
	s.mu.Unlock()
	for i, o := range ops {
		if err := o.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if results[i], err = b.attempt(ctx, o); err != nil {
			_ = tx.Rollback()
			s.answer(ops, results, err)
			return
		}
	}
	if b.alone && results[0] != nil { // nothing to commit
		_ = tx.Rollback()
		s.answer(ops, results, nil)
		return
	}
	if err := tx.Commit(); err != nil {
		s.answer(ops, results, s.sqlErr("commit", err))
		return
	}
	s.mu.Lock()
	s.counts = b.counts
	s.mu.Unlock()
	s.answer(ops, results, nil)
}

// attempt runs one op in a savepoint. It returns the op's own error, and
// an error of the whole batch when the savepoint could not be undone (the
// transaction is then gone: SQLite rolls back on some I/O errors).
func (b *batch) attempt(ctx context.Context, o *op) (opErr, batchErr error) {
	if b.alone {
		return o.run(b), nil
	}
	if _, err := b.tx.ExecContext(ctx, "SAVEPOINT op"); err != nil {
		return nil, b.s.sqlErr("savepoint", err)
	}
	before := b.counts
	if opErr = o.run(b); opErr != nil {
		b.counts = before
		if _, err := b.tx.ExecContext(ctx, "ROLLBACK TO op"); err != nil {
			return opErr, fmt.Errorf("%w (then rolling back: %w)", opErr, b.s.sqlErr("rollback", err))
		}
	}
	if _, err := b.tx.ExecContext(ctx, "RELEASE op"); err != nil {
		return opErr, b.s.sqlErr("release savepoint", err)
	}
	return opErr, nil
}

// answer tells each caller how its write ended: when batchErr is set, the
// writes that had worked failed with it.
func (s *Store) answer(ops []*op, results []error, batchErr error) {
	for i, o := range ops {
		err := results[i]
		if batchErr != nil && err == nil {
			err = batchErr
		}
		o.done <- err
	}
}

// sqlErr names the store and what it was doing in a driver error, and
// latches damage: a store that found its file corrupt refuses new claims.
func (s *Store) sqlErr(what string, err error) error {
	if err == nil {
		return nil
	}
	if damage(err) {
		s.latch(err)
		return fmt.Errorf("%w: sqlitestore %s: %s: %w", store.ErrDamaged, s.path, what, err)
	}
	return fmt.Errorf("sqlitestore %s: %s: %w", s.path, what, err)
}
