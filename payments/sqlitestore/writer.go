package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"

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
	stmts  map[*sql.Stmt]*sql.Stmt // prepared statements, bound to tx
	// touched is set once the op being run has written, or has had a
	// statement fail: its error then leaves the transaction in doubt,
	// and the batch is run again without it.
	touched bool
	wrote   bool // some op of the batch has written
	// claimed is what the batch's writes will make of Store.claimed once
	// committed: a record under a claim, or nil for one no longer claimed.
	claimed map[string]*store.Record
	// queued and dequeued are what the batch's writes will change in
	// Store.queue once committed.
	queued   []*queued
	dequeued []string
}

// cached returns the writer's copy of the payment with key, if it is under
// a claim.
func (b *batch) cached(key string) (store.Record, bool) {
	if r, ok := b.claimed[key]; ok {
		if r == nil {
			return store.Record{}, false
		}
		return r.Copy(), true
	}
	r, ok := b.s.claimed[key]
	if !ok {
		return store.Record{}, false
	}
	return r.Copy(), true
}

// keep notes rec as written by the batch, for Store.claimed.
func (b *batch) keep(rec store.Record) {
	if b.claimed == nil {
		b.claimed = map[string]*store.Record{}
	}
	if !rec.Claim.Held() {
		b.claimed[rec.Key()] = nil
		return
	}
	c := rec.Copy()
	b.claimed[rec.Key()] = &c
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

// exec runs the prepared write st in the batch.
func (b *batch) exec(st *sql.Stmt, what string, args ...any) (sql.Result, error) {
	b.touched, b.wrote = true, true
	res, err := b.stmt(st).Exec(args...)
	if err != nil {
		return nil, b.sqlErr(what, err)
	}
	return res, nil
}

// sqlErr is [Store.sqlErr] for a statement of the batch: the op that met
// it is not trusted to have left the transaction as it was.
func (b *batch) sqlErr(what string, err error) error {
	b.touched = true
	return b.s.sqlErr(what, err)
}

// prepared are the statements of the hot path, prepared once on the
// writer's connection: parsing SQL text costs more than running it.
type prepared struct {
	load, insert, update, insertEntry, ackEntry *sql.Stmt
}

func (p *prepared) all() []**sql.Stmt {
	return []**sql.Stmt{&p.load, &p.insert, &p.update, &p.insertEntry, &p.ackEntry}
}

func prepare(ctx context.Context, db *sql.DB) (prepared, error) {
	var p prepared
	texts := []string{selectPayment, insertPayment, updatePayment, insertEntry, ackEntry}
	for i, to := range p.all() {
		st, err := db.PrepareContext(ctx, texts[i])
		if err != nil {
			return p, err
		}
		*to = st
	}
	return p, nil
}

// write runs fn as one atomic write and returns once it is durable (or
// failed). Writes from concurrent callers are committed together, one
// transaction and one fsync for the lot (group commit); one failing
// leaves the others whole (see commit).
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
		ops := s.gather([]*op{first})
		if len(ops) < s.cfg.MaxBatch {
			// Let the callers just answered, already runnable, queue
			// their next writes: one more in this transaction costs far
			// less than a transaction of its own.
			runtime.Gosched()
			ops = s.gather(ops)
		}
		s.commit(ops)
	}
}

// gather adds the writes waiting, up to MaxBatch, to ops.
func (s *Store) gather(ops []*op) []*op {
	for len(ops) < s.cfg.MaxBatch {
		select {
		case o := <-s.ops:
			ops = append(ops, o)
		default:
			return ops
		}
	}
	return ops
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
// that fails before writing, is left out and the others commit. An op that
// fails after writing (or on a failed statement) leaves the transaction in
// doubt: it is rolled back and the batch run again without that op — each
// round drops one, so a batch ends. (SQLite savepoints around every op
// would avoid the rerun, at the cost of three more statements per write;
// failures are rare, writes are not.) When the transaction itself fails,
// every op left fails with its error and the counts stay as they were.
func (s *Store) commit(ops []*op) {
	results := make([]error, len(ops))
	out := make([]bool, len(ops)) // failed for good: not run again
	for {
		redo, batchErr := s.try(ops, results, out)
		if !redo {
			s.answer(ops, results, batchErr)
			return
		}
	}
}

// try runs the ops not out in one transaction and commits it. It returns
// redo when an op failed after writing (it is then out).
func (s *Store) try(ops []*op, results []error, out []bool) (redo bool, batchErr error) {
	live := 0
	for i, o := range ops {
		if !out[i] {
			if results[i] = o.ctx.Err(); results[i] != nil {
				out[i] = true
			} else {
				live++
			}
		}
	}
	if live == 0 {
		return false, nil
	}
	tx, err := s.db.BeginTx(context.Background(), nil) // the batch outlives any one caller
	if err != nil {
		return false, s.sqlErr("begin", err)
	}
	s.mu.Lock()
	b := &batch{s: s, tx: tx, counts: s.counts, stmts: map[*sql.Stmt]*sql.Stmt{}}
	s.mu.Unlock()
	for i, o := range ops {
		if out[i] {
			continue
		}
		b.touched = false
		if results[i] = o.run(b); results[i] == nil {
			continue
		}
		out[i] = true
		if b.touched {
			_ = tx.Rollback()
			return true, nil
		}
	}
	if !b.wrote {
		_ = tx.Rollback()
		return false, nil
	}
	if err := tx.Commit(); err != nil {
		return false, s.sqlErr("commit", err)
	}
	s.mu.Lock()
	s.counts = b.counts
	for _, q := range b.queued {
		s.queue.add(q)
	}
	for _, id := range b.dequeued {
		s.queue.remove(id)
	}
	s.mu.Unlock()
	for key, rec := range b.claimed {
		if rec == nil {
			delete(s.claimed, key)
		} else {
			s.claimed[key] = *rec
		}
	}
	return false, nil
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
