package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
)

// migrations are the schema's versions, in order: migrations[i] moves a
// schema from version i to i+1. Never edit one that has shipped; add the
// next. Times are BIGINT nanoseconds since 1970 (UTC), NULL for the zero
// time: the store never reads a clock of its own, and the times callers
// give must come back exactly (timestamptz keeps microseconds only).
var migrations = []string{
	// 1: the ledger, the outbox and the outbox's capacity counter.
	`CREATE TABLE payments (
		key              TEXT COLLATE "C" PRIMARY KEY CHECK (key ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'),
		payer            TEXT NOT NULL CHECK (payer <> ''),
		payee            TEXT NOT NULL CHECK (payee <> ''),
		amount_minor     BIGINT NOT NULL CHECK (amount_minor > 0),
		currency         TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
		target_currency  TEXT CHECK (target_currency ~ '^[A-Z]{3}$'),
		description      TEXT NOT NULL,
		reference        TEXT NOT NULL,
		settled_minor    BIGINT CHECK (settled_minor > 0),
		settled_currency TEXT CHECK (settled_currency ~ '^[A-Z]{3}$'),
		quote_from       TEXT CHECK (quote_from ~ '^[A-Z]{3}$'),
		quote_to         TEXT CHECK (quote_to ~ '^[A-Z]{3}$'),
		quote_rate_num   BIGINT CHECK (quote_rate_num > 0),
		quote_rate_den   BIGINT CHECK (quote_rate_den > 0),
		quote_as_of_ns   BIGINT,
		bank             TEXT NOT NULL,
		started          BOOLEAN NOT NULL,
		state            TEXT NOT NULL
		                 CHECK (state IN ('', 'succeeded', 'declined', 'rejected', 'pending_reconciliation')),
		reason           TEXT NOT NULL,
		error            TEXT NOT NULL,
		retry_after_ns   BIGINT NOT NULL,
		transfer_id      TEXT NOT NULL,
		quote_fallback   BOOLEAN NOT NULL,
		quote_age_ns     BIGINT NOT NULL,
		claim_token      TEXT CHECK (claim_token <> ''),
		claim_owner      TEXT CHECK (claim_owner <> ''),
		claim_expires_ns BIGINT,
		checks           INTEGER NOT NULL CHECK (checks >= 0),
		last_wait_ns     BIGINT NOT NULL CHECK (last_wait_ns >= 0),
		next_check_ns    BIGINT,
		log              SMALLINT NOT NULL CHECK (log BETWEEN 0 AND 3),
		CHECK ((settled_minor IS NULL) = (settled_currency IS NULL)),
		CHECK ((quote_from IS NULL) = (quote_to IS NULL) AND (quote_from IS NULL) = (quote_rate_num IS NULL)
			AND (quote_from IS NULL) = (quote_rate_den IS NULL)),
		CHECK ((claim_token IS NULL) = (claim_owner IS NULL) AND (claim_token IS NULL) = (claim_expires_ns IS NULL)),
		CHECK (claim_token IS NULL OR state IN ('', 'pending_reconciliation')),
		CHECK (NOT started OR bank <> '')
	);
	CREATE INDEX payments_open ON payments (next_check_ns NULLS FIRST, key)
		WHERE state IN ('', 'pending_reconciliation');
	CREATE INDEX payments_claim_owner ON payments (claim_owner) WHERE claim_owner IS NOT NULL;
	CREATE TABLE outbox (
		seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		payment_id        TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES payments (key),
		transfer_id       TEXT NOT NULL,
		payer             TEXT NOT NULL,
		payee             TEXT NOT NULL,
		amount_minor      BIGINT NOT NULL CHECK (amount_minor >= 0),
		currency          TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
		credited_minor    BIGINT CHECK (credited_minor >= 0),
		credited_currency TEXT CHECK (credited_currency ~ '^[A-Z]{3}$'),
		at_ns             BIGINT,
		lease_owner       TEXT CHECK (lease_owner <> ''),
		lease_expires_ns  BIGINT,
		refused           BOOLEAN NOT NULL DEFAULT false,
		refused_reason    TEXT,
		refused_at_ns     BIGINT,
		CHECK ((credited_minor IS NULL) = (credited_currency IS NULL)),
		CHECK ((lease_owner IS NULL) = (lease_expires_ns IS NULL)),
		CHECK (refused = (refused_reason IS NOT NULL)),
		CHECK (NOT (refused AND lease_owner IS NOT NULL))
	);
	CREATE INDEX outbox_queued ON outbox (seq) WHERE NOT refused;
	CREATE INDEX outbox_refused ON outbox (seq) WHERE refused;
	CREATE INDEX outbox_lease_owner ON outbox (lease_owner) WHERE lease_owner IS NOT NULL;
	CREATE TABLE outbox_capacity (
		id   BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
		used BIGINT NOT NULL CHECK (used >= 0)
	);
	INSERT INTO outbox_capacity (used) VALUES (0);`,
	// 2: the banks that refused a payment (store.Record.Refused), as a JSON
	// array of names; '' when none, which older rows get.
	`ALTER TABLE payments ADD COLUMN refused TEXT NOT NULL DEFAULT ''
		CHECK (refused = '' OR jsonb_typeof(refused::jsonb) = 'array');`,
}

// ErrNewerSchema refuses a schema written by a newer version of this
// package: its rules may differ from the ones this version would apply.
var ErrNewerSchema = errors.New("pgstore: schema written by a newer version")

// migrate brings the schema to the latest version in one transaction,
// under a transaction-scoped advisory lock keyed by the schema's name, so
// that instances starting together wait for one another instead of
// racing to create the same tables; each version is recorded in
// schema_version.
func migrate(ctx context.Context, db *sql.DB, schema string) error {
	// The common case, a schema already at this version, costs one read
	// and no lock. No such table (or schema) yet means: take the long way.
	var v int
	err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM `+schema+`.schema_version`).Scan(&v)
	switch {
	case err == nil && v == len(migrations):
		return nil
	case err != nil && Code(err) != "42P01" && Code(err) != "3F000":
		return fmt.Errorf("read the schema version: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(schema)); err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	// The name matched [a-z_][a-z0-9_]*, so it needs no quoting.
	if _, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+schema+`.schema_version (
		version    INTEGER PRIMARY KEY CHECK (version > 0),
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM `+schema+`.schema_version`).Scan(&v); err != nil {
		return fmt.Errorf("read the schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("%w: %s is at version %d, this package knows %d", ErrNewerSchema, schema, v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, v+1); err != nil {
			return fmt.Errorf("record schema version %d: %w", v+1, err)
		}
	}
	return tx.Commit()
}

// lockKey is the advisory lock of a schema's migrations: the same for
// every instance that names the schema, distinct (but for hash collisions,
// which only make two migrations wait for each other) between schemas.
func lockKey(schema string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("riprap/pgstore/migrate:" + schema))
	return int64(h.Sum64())
}
