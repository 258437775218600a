package sqlitestore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/riprap-go/riprap/payments/store"
)

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// checkFiles looks at the database file and its write-ahead log before
// SQLite does: a file that is not a database at all, and damage in the log
// that SQLite's recovery would silently cut (see checkWAL), are refused.
func checkFiles(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // a new store
	}
	if err != nil {
		return err
	}
	head := make([]byte, 100)
	n, err := io.ReadFull(f, head)
	_ = f.Close()
	switch {
	case n == 0 && (err == io.EOF):
		return nil // an empty file: SQLite makes it a database
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return err
	case n < len(head) || !bytes.Equal(head[:len(sqliteMagic)], []byte(sqliteMagic)):
		return fmt.Errorf("%w: %s is not a SQLite database (header %q)", store.ErrDamaged, path, head[:min(n, 16)])
	}
	if err := checkWAL(path + "-wal"); err != nil {
		return err
	}
	// A file in WAL mode says so in its header (format versions 2, 2).
	// One that says otherwise would make SQLite ignore its log, and with
	// it every transaction not yet checkpointed.
	if head[18] != 2 || head[19] != 2 {
		if info, err := os.Stat(path + "-wal"); err == nil && info.Size() > 0 {
			return fmt.Errorf("%w: %s: the header does not declare the write-ahead log that holds %d bytes of transactions",
				store.ErrDamaged, path, info.Size())
		}
	}
	return nil
}

// prepareFile puts the file in WAL mode (first: a new file is created in
// it), makes sure it is a riprap store (or a new one, which it marks), and
// intact by PRAGMA quick_check.
func prepareFile(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return classifyOpen(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("cannot use write-ahead logging (journal_mode is %q)", mode)
	}
	var app int64
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
		return classifyOpen(err)
	}
	switch app {
	case applicationID:
	case 0:
		var tables int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
			return classifyOpen(err)
		}
		if tables > 0 {
			return fmt.Errorf("the file holds another application's database (%d schema objects, no riprap mark)", tables)
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
			return classifyOpen(err)
		}
	default:
		return fmt.Errorf("the file holds another application's database (application_id %#x)", app)
	}
	if err := quickCheck(ctx, db); err != nil {
		return err
	}
	// Take the write lock once: a file the store cannot write (read-only,
	// or locked by another process) is refused now, not at the first claim.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return classifyOpen(err)
	}
	return tx.Rollback()
}

// quickCheck runs PRAGMA quick_check: the b-trees, the free list, page
// use, and STRICT types. (It does not compare indexes with their tables;
// the row checksums catch content that changed.)
func quickCheck(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, "PRAGMA quick_check(20)")
	if err != nil {
		return classifyOpen(err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return classifyOpen(err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return classifyOpen(err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: quick_check: %s", store.ErrDamaged, strings.Join(problems, "; "))
	}
	return nil
}

// classifyOpen marks SQLite's damage errors as store.ErrDamaged.
func classifyOpen(err error) error {
	if damage(err) && !errors.Is(err, store.ErrDamaged) {
		return fmt.Errorf("%w: %w", store.ErrDamaged, err)
	}
	return err
}

// scan reads every row once at Open: it verifies each checksum, counts
// what Stats reports, and lists damaged rows as problems (kept on disk,
// never dropped).
func (s *Store) scan(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "SELECT "+selectCols+" FROM payments")
	if err != nil {
		return err
	}
	defer rows.Close()
	var c counts
	for rows.Next() {
		var r payRow
		if err := rows.Scan(r.dest()...); err != nil {
			return err
		}
		rec, err := r.decode()
		if err != nil {
			s.problem(err)
			continue
		}
		c.replace(nil, rec)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := s.scanOutbox(ctx, &c); err != nil {
		return err
	}
	s.counts = c
	return nil
}

func (s *Store) scanOutbox(ctx context.Context, c *counts) error {
	rows, err := s.db.QueryContext(ctx, "SELECT seq, "+entryCols+" FROM outbox ORDER BY seq")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq int64
			r   entryRow
		)
		if err := rows.Scan(append([]any{&seq}, r.dest()...)...); err != nil {
			return err
		}
		e, err := r.decode()
		if err != nil {
			s.problem(err) // counted, never sent: it stays for an operator
		}
		switch {
		case r.refusedReason.Valid:
			c.refused++
		case err == nil:
			c.queued++
			s.queue.add(&queued{seq: seq, entry: e}) // the leases of the last run end here
		default:
			c.queued++
		}
	}
	return rows.Err()
}
