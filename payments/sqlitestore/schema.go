package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// applicationID marks a SQLite file as a riprap store ("RIPR").
const applicationID = 0x52495052

// migrations are the schema's versions, in order: migrations[i] moves a
// database from version i to i+1. Never edit one that has shipped; add
// the next.
var migrations = []string{
	// 1: the ledger and the outbox. STRICT tables: a value of the wrong
	// type is refused, not converted. Every row carries a checksum of its
	// content (crc), verified on every read.
	`CREATE TABLE payments (
		key              TEXT PRIMARY KEY NOT NULL CHECK (length(key) BETWEEN 1 AND 64),
		payer            TEXT NOT NULL CHECK (payer <> ''),
		payee            TEXT NOT NULL CHECK (payee <> ''),
		amount_minor     INTEGER NOT NULL CHECK (amount_minor > 0),
		currency         TEXT NOT NULL CHECK (length(currency) = 3),
		target_currency  TEXT NOT NULL CHECK (target_currency = '' OR length(target_currency) = 3),
		description      TEXT NOT NULL,
		reference        TEXT NOT NULL,
		settled_minor    INTEGER CHECK (settled_minor > 0),
		settled_currency TEXT CHECK (length(settled_currency) = 3),
		quote_from       TEXT,
		quote_to         TEXT,
		quote_rate       TEXT,
		quote_as_of      INTEGER,
		bank             TEXT NOT NULL,
		started          INTEGER NOT NULL CHECK (started IN (0, 1)),
		state            TEXT NOT NULL CHECK (state IN ('', 'succeeded', 'declined', 'rejected', 'pending_reconciliation')),
		reason           TEXT NOT NULL,
		error            TEXT NOT NULL,
		retry_after      INTEGER NOT NULL CHECK (retry_after >= 0),
		transfer_id      TEXT NOT NULL,
		quote_fallback   INTEGER NOT NULL CHECK (quote_fallback IN (0, 1)),
		quote_age        INTEGER NOT NULL CHECK (quote_age >= 0),
		claim_token      TEXT,
		claim_owner      TEXT,
		claim_expires    INTEGER,
		checks           INTEGER NOT NULL CHECK (checks >= 0),
		last_wait        INTEGER NOT NULL CHECK (last_wait >= 0),
		next_check       INTEGER NOT NULL,
		log              INTEGER NOT NULL CHECK (log BETWEEN 0 AND 3),
		crc              INTEGER NOT NULL,
		CHECK ((settled_minor IS NULL) = (settled_currency IS NULL)),
		CHECK ((quote_from IS NULL) = (quote_to IS NULL) AND (quote_from IS NULL) = (quote_rate IS NULL)
			AND (quote_from IS NULL) = (quote_as_of IS NULL)),
		CHECK ((claim_token IS NULL) = (claim_owner IS NULL) AND (claim_token IS NULL) = (claim_expires IS NULL)),
		CHECK (claim_token IS NULL OR state IN ('', 'pending_reconciliation'))
	) STRICT, WITHOUT ROWID;
	CREATE INDEX payments_open ON payments (next_check, key) WHERE state IN ('', 'pending_reconciliation');
	CREATE INDEX payments_claims ON payments (claim_owner) WHERE claim_owner IS NOT NULL;
	CREATE TABLE outbox (
		seq               INTEGER PRIMARY KEY AUTOINCREMENT,
		payment_id        TEXT NOT NULL UNIQUE REFERENCES payments (key),
		transfer_id       TEXT NOT NULL,
		payer             TEXT NOT NULL,
		payee             TEXT NOT NULL,
		amount_minor      INTEGER NOT NULL,
		currency          TEXT NOT NULL CHECK (length(currency) = 3),
		credited_minor    INTEGER,
		credited_currency TEXT CHECK (length(credited_currency) = 3),
		at                INTEGER NOT NULL,
		lease_owner       TEXT,
		lease_expires     INTEGER,
		refused_reason    TEXT,
		refused_at        INTEGER,
		crc               INTEGER NOT NULL,
		CHECK ((credited_minor IS NULL) = (credited_currency IS NULL)),
		CHECK ((lease_owner IS NULL) = (lease_expires IS NULL)),
		CHECK ((refused_reason IS NULL) = (refused_at IS NULL))
	) STRICT;
	CREATE INDEX outbox_refused ON outbox (seq) WHERE refused_reason IS NOT NULL;`,
	// 2: the banks that refused a payment (store.Record.Refused), as a JSON
	// array of names; '' when none, which older rows get, and which the
	// row checksum leaves out, so that their checksums still hold.
	`ALTER TABLE payments ADD COLUMN refused TEXT NOT NULL DEFAULT ''
		CHECK (refused = '' OR (json_valid(refused) AND json_type(refused) = 'array'));`,
}

// errNewer refuses a database written by a newer version of this package.
var errNewer = errors.New("sqlitestore: database written by a newer version")

// migrate brings the database to the latest schema, one transaction per
// version, recording each in schema_version.
func migrate(ctx context.Context, db *sql.DB, now time.Time) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY NOT NULL CHECK (version > 0),
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var v int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("%w: schema version %d, this package knows %d", errNewer, v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		if err := step(ctx, db, v+1, migrations[v], now); err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", v+1, err)
		}
	}
	return nil
}

func step(ctx context.Context, db *sql.DB, version int, ddl string, now time.Time) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, ddl); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, applied_at) VALUES (?, ?)`,
		version, now.UnixNano()); err != nil {
		return err
	}
	return tx.Commit()
}
