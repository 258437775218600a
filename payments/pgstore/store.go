package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience/sqlguard"
)

// Store is a [store.Store] in a PostgreSQL schema, shared by every
// instance of a gateway fleet that opens the same schema: an idempotent
// retry is answered by any of them, and the row locks described in the
// package doc keep two of them from working on the same payment or
// sending the same log entry at once. Build it with [Open]; the zero value
// is not usable. It is safe for concurrent use.
type Store struct {
	cfg    Config
	db     *sql.DB
	closed atomic.Bool

	mu       sync.Mutex // protects problems and seen
	problems []string
	seen     map[string]bool
}

// Open connects to cfg.DSN, creates cfg.Schema and its tables when
// missing (or migrates them to this version's schema), and returns the
// store. Instances opening the same schema at once are safe: migrations
// run one at a time under an advisory lock. A schema written by a newer
// version is refused with [ErrNewerSchema]. A bad cfg is refused with a
// [*resilience.ConfigError] before anything is dialled.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg, cc, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	guard := sqlguard.Config{Guards: cfg.Guards, Retry: cfg.Retry, Retryable: Retryable, Classify: Classify}
	db := sql.OpenDB(sqlguard.Wrap(stdlib.GetConnector(*cc), guard))
	db.SetMaxOpenConns(cfg.MaxConns)
	db.SetMaxIdleConns(cfg.MaxConns)
	if err := migrate(ctx, db, cfg.Schema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("pgstore: open schema %s: %w", cfg.Schema, err)
	}
	return &Store{cfg: cfg, db: db, seen: map[string]bool{}}, nil
}

// Close closes the store's connections; later calls fail with
// store.ErrClosed. Closing twice does nothing.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.db.Close()
}

// DB returns the store's guarded pool, for an operator's queries and for
// tests. Writing to the store's tables behind its back breaks its rules.
func (s *Store) DB() *sql.DB { return s.db }

// usable refuses a call on a closed store or with a done context.
func (s *Store) usable(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return ctx.Err()
}

// maxAttempts bounds the runs of one transaction that PostgreSQL rolled
// back as a serialization failure or a deadlock.
const maxAttempts = 4

// tx runs fn in a transaction and commits it; a transaction PostgreSQL
// rolled back as a deadlock or a serialization failure is run again (fn
// must start from what it reads, never from what an earlier run left
// behind). Errors of the store's rules (store.ErrClaimLost, …) come back
// as they are; a database error is wrapped with what was being done.
func (s *Store) tx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	var err error
	for range maxAttempts {
		if err = s.tx1(ctx, fn); !Retryable(err) || ctx.Err() != nil {
			break
		}
	}
	return s.dbErr(what, err)
}

func (s *Store) tx1(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// dbErr wraps a database error with what was being done: store.ErrClosed
// once the store is closed, store.ErrInvalid wrapped around a constraint
// violation (the schema refused the write), the error as it is when it is
// one of the store's own.
func (s *Store) dbErr(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case s.closed.Load():
		return store.ErrClosed
	case ours(err):
		return err
	case constraint(err):
		return fmt.Errorf("%w: pgstore: %s: %w", store.ErrInvalid, what, err)
	}
	return fmt.Errorf("pgstore: %s: %w", what, err)
}

// ours reports whether err is an answer of the store's rules rather than
// a failure of the database.
func ours(err error) bool {
	for _, e := range []error{store.ErrClaimLost, store.ErrNotFound, store.ErrInvalid, store.ErrFull,
		store.ErrClosed, store.ErrDamaged} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// problem lists damage for Stats.Problems, once.
func (s *Store) problem(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.seen[msg] {
		s.seen[msg] = true
		s.problems = append(s.problems, msg)
	}
}

// Stats implements [store.Store.Stats]: one statement, so every count
// comes from the same snapshot. It counts the ledger's rows, so its cost
// grows with the ledger: it is meant for a status page, not a hot path.
// Problems lists rows found unreadable by this instance and any
// disagreement between the outbox's capacity counter and the rows.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	if err := s.usable(ctx); err != nil {
		return store.Stats{}, err
	}
	var (
		st                                  = store.Stats{Payments: map[store.State]int{}, MaxOutbox: s.cfg.Store.MaxOutbox}
		succeeded, declined, rejected, used int
	)
	err := s.db.QueryRowContext(ctx, `SELECT
		count(*) FILTER (WHERE state = ''),
		count(*) FILTER (WHERE state = 'pending_reconciliation'),
		count(*) FILTER (WHERE state = 'succeeded'),
		count(*) FILTER (WHERE state = 'declined'),
		count(*) FILTER (WHERE state = 'rejected'),
		count(*) FILTER (WHERE claim_token IS NOT NULL),
		(SELECT count(*) FROM outbox WHERE NOT refused),
		(SELECT count(*) FROM outbox WHERE refused),
		(SELECT used FROM outbox_capacity)
		FROM payments`).Scan(&st.Open, &st.Pending, &succeeded, &declined, &rejected, &st.Claimed,
		&st.Outbox, &st.Refused, &used)
	if err != nil {
		return store.Stats{}, s.dbErr("read stats", err)
	}
	st.Reserved = st.Open + st.Pending
	for state, n := range map[store.State]int{store.Succeeded: succeeded, store.Declined: declined,
		store.Rejected: rejected, store.Pending: st.Pending} {
		if n > 0 {
			st.Payments[state] = n
		}
	}
	if used != st.Outbox+st.Reserved {
		s.problem(fmt.Sprintf("pgstore: outbox capacity counter says %d slots are used, the rows say %d", used, st.Outbox+st.Reserved))
	}
	s.mu.Lock()
	st.Problems = slices.Clone(s.problems)
	s.mu.Unlock()
	return st, nil
}
