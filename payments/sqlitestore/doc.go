// Package sqlitestore keeps the payment gateway's ledger and outbox in one
// SQLite file: the embedded durable [store.Store] of payments/store. It is
// its own Go module so that only its users download a database driver
// (modernc.org/sqlite: pure Go, no cgo, nothing to install).
//
// # Durability
//
// The file is in WAL mode with synchronous=FULL by default: a commit
// returns once the write-ahead log is fsync'd, so a payment reported
// succeeded, and its log entry, survive a power loss. [SyncNormal] trades
// that for speed (see its doc). Writes from concurrent callers are
// committed together — one transaction, one fsync — by a single writer
// connection, so transactions never wait on one another for a lock and
// throughput grows with concurrency instead of being capped by the disk's
// fsyncs per second; a write that fails is left out and the others commit.
// A write returns only once its transaction is committed. Transactions
// begin with BEGIN IMMEDIATE; busy_timeout bounds the wait for a lock held
// by another process.
//
// # Speed
//
// The writer's statements are prepared once. A payment under a claim is
// kept in memory by the writer, so the claimant's writes do not read it
// back; a delivered entry is deleted from the outbox without rewriting its
// payment's row (the record's LogState is read from the outbox); and the
// queued entries, with their leases, are mirrored in memory, so that
// [Store.Next] runs no transaction. Outbox leases are therefore not
// durable: they end when the store is reopened, as [Store.Expire] would
// end them, which is safe because one process owns the file.
//
// Measured through a whole gateway (loopback sims, no faults; 2 shared
// cores, load average 9-17 from other work; go test -run '^$' -bench
// GatewayPay -benchtime 4000x) in one run: 64 payers, synchronous=FULL,
// 1,989 succeeded/s (p50 28.5 ms, p99 82 ms) against 3,155/s for the
// in-memory store, and 411 against 193 µs of CPU per payment; the previous
// version of this package, the same hour, 441-566/s and 838-868 µs.
//
// Every call to the database goes through resilience/sqlguard, with the
// guards of [Config.Guards] and SQLite's own error classification
// ([Classify], [Retryable]): a locked, full, read-only or damaged database
// is a failure for a breaker, a constraint violation an answer.
//
// # Faults
//
// Each fault gives a clear error and makes the store refuse new claims, so
// that the gateway rejects payments (not attempted) rather than settle
// what it cannot record:
//
//   - a database locked by another process: SQLITE_BUSY after BusyTimeout;
//   - a read-only file: SQLITE_READONLY (Open refuses a file it cannot
//     write);
//   - a full disk, or the size cap [Config.MaxBytes]: new claims are
//     refused with store.ErrFull once the file is within Headroom of the
//     cap, keeping room to finish the payments already claimed; past it,
//     SQLITE_FULL, and the failed write changes nothing (its transaction
//     is rolled back whole);
//   - a damaged file: Open refuses a file that is not a database, one
//     that fails PRAGMA quick_check, and a write-ahead log whose damage
//     is followed by committed transactions (SQLite's recovery would drop
//     them silently); damage found later (SQLITE_CORRUPT) makes every
//     later claim fail with store.ErrDamaged. A row whose checksum does
//     not match is kept in the file, left out of what the store returns,
//     and listed in Stats.Problems.
//
// A torn tail of the write-ahead log after a crash is SQLite's to repair,
// and only transactions that never returned can be in it.
//
// # Schema
//
// Tables are STRICT, with CHECK constraints on every column that has a
// rule (positive amounts, three-letter currencies, known states, a claim's
// three columns set together). Migrations are numbered and recorded in
// schema_version; a file written by a newer version is refused.
package sqlitestore
