package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver

	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience/sqlguard"
)

// Store is a [store.Store] in a SQLite database file. It is safe for
// concurrent use by the goroutines of one process; two processes must not
// open the same file (the claims and counts of each would not see the
// other's). Build it with [Open]; the zero value is not usable.
type Store struct {
	cfg   Config
	path  string
	name  string
	db    *sql.DB // the writer: one connection, used by writeLoop only
	ro    *sql.DB // read-only connections, for Lookup and Refused
	stmts prepared

	// claimed holds a copy of every payment under a claim, as last
	// written, so that the claimant's writes (MarkStarted, Finish, …) need
	// not read it back: the writer's alone, kept in step with the file by
	// each committed batch. Claims are held only by open and pending
	// payments, which reserve outbox slots, so it holds at most MaxOutbox.
	// A claimed row damaged on disk meanwhile is overwritten from this
	// copy rather than reported.
	claimed map[string]store.Record

	ops  chan *op      // writes waiting for the writer
	stop chan struct{} // closed by Close
	done chan struct{} // closed when writeLoop has ended
	once sync.Once

	mu       sync.Mutex // protects the fields below
	counts   counts
	queue    queue
	problems []string
	seen     map[string]bool // problems already listed
	broken   error           // damage found at run time: claims are refused
}

// counts is what Stats reports and what the outbox bound needs, kept in
// step with the database by the writer: counted once at Open, then moved
// by each committed write.
type counts struct {
	open, succeeded, declined, rejected, pending int
	claimed, queued, refused                     int
}

func (c *counts) state(st store.State, d int) {
	switch st {
	case "":
		c.open += d
	case store.Succeeded:
		c.succeeded += d
	case store.Declined:
		c.declined += d
	case store.Rejected:
		c.rejected += d
	case store.Pending:
		c.pending += d
	}
}

// replace moves the counts from before (nil for a new record) to after.
func (c *counts) replace(before *store.Record, after store.Record) {
	if before != nil {
		c.state(before.Result.State, -1)
		if before.Claim.Held() {
			c.claimed--
		}
	}
	c.state(after.Result.State, 1)
	if after.Claim.Held() {
		c.claimed++
	}
}

func (c counts) reserved() int { return c.open + c.pending }

// Open opens the store in the SQLite file at path, creating it (and its
// schema) when it does not exist. Before SQLite touches an existing file,
// Open checks its write-ahead log: damage followed by committed
// transactions, which SQLite's recovery would silently discard, is refused
// with an error matching store.ErrDamaged, the files left as they are.
// Then it runs PRAGMA quick_check, migrates the schema, and reads every
// row once, verifying its checksum: a damaged file is refused, a damaged
// row is kept and listed in Stats.Problems.
func Open(path string, cfg Config) (*Store, error) {
	cfg, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, path: path, name: cmpOr(cfg.Name, filepath.Base(path)),
		ops: make(chan *op, cfg.MaxBatch), stop: make(chan struct{}), done: make(chan struct{}), seen: map[string]bool{},
		claimed: map[string]store.Record{}, queue: newQueue()}
	if err := s.open(); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	go s.writeLoop()
	return s, nil
}

func (s *Store) open() error {
	if err := checkFiles(s.path); err != nil {
		return err
	}
	guard := sqlguard.Config{Guards: s.cfg.Guards, Retry: s.cfg.Retry, Retryable: Retryable, Classify: Classify}
	dsn, err := s.cfg.dsn(s.path, false)
	if err != nil {
		return err
	}
	if s.db, err = sqlguard.Open("sqlite", dsn, guard); err != nil {
		return err
	}
	s.db.SetMaxOpenConns(1)
	s.db.SetMaxIdleConns(1)
	ctx := context.Background()
	if err := prepareFile(ctx, s.db); err != nil {
		return err
	}
	if err := migrate(ctx, s.db, time.Now()); err != nil {
		return classifyOpen(err)
	}
	if err := s.scan(ctx); err != nil {
		return classifyOpen(err)
	}
	if s.stmts, err = prepare(ctx, s.db); err != nil {
		return err
	}
	rodsn, _ := s.cfg.dsn(s.path, true)
	if s.ro, err = sqlguard.Open("sqlite", rodsn, guard); err != nil {
		return err
	}
	s.ro.SetMaxOpenConns(s.cfg.Readers)
	return nil
}

// Close waits for the writes under way, refuses those still queued with
// store.ErrClosed, and closes the database. The write-ahead log is left
// for the next Open to recover; closing twice does nothing.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		close(s.stop)
		<-s.done
		err = s.closeDBs()
	})
	return err
}

func (s *Store) closeDBs() error {
	var errs []error
	for _, st := range s.stmts.all() {
		if *st != nil {
			errs = append(errs, (*st).Close())
		}
	}
	for _, db := range []*sql.DB{s.ro, s.db} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

// Stats implements [store.Store.Stats], from counts kept in memory.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	if err := s.usable(ctx); err != nil {
		return store.Stats{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counts
	st := store.Stats{Payments: map[store.State]int{}, Open: c.open, Pending: c.pending, Claimed: c.claimed,
		Outbox: c.queued, Refused: c.refused, Reserved: c.reserved(), MaxOutbox: s.cfg.Store.MaxOutbox,
		Problems: slices.Clone(s.problems)}
	for st2, n := range map[store.State]int{store.Succeeded: c.succeeded, store.Declined: c.declined,
		store.Rejected: c.rejected, store.Pending: c.pending} {
		if n > 0 {
			st.Payments[st2] = n
		}
	}
	return st, nil
}

func (s *Store) usable(ctx context.Context) error {
	select {
	case <-s.stop:
		return store.ErrClosed
	default:
	}
	return ctx.Err()
}

// problem lists damage for Stats.Problems, once.
func (s *Store) problem(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if msg := err.Error(); !s.seen[msg] {
		s.seen[msg] = true
		s.problems = append(s.problems, msg)
	}
}

// latch records damage found at run time: from now on claims are refused.
func (s *Store) latch(err error) {
	s.problem(err)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken == nil {
		s.broken = err
	}
}

func (s *Store) brokenErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken == nil {
		return nil
	}
	return fmt.Errorf("%w: sqlitestore %s: claims refused since the database was found damaged: %w",
		store.ErrDamaged, s.path, s.broken)
}
