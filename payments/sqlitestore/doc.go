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
// Measured through a whole gateway (loopback sims, no faults; go test
// -run '^$' -bench GatewayPay -benchtime 4000x -count 3) on the 2-core
// machine with nothing else running: synchronous=FULL 2,630-2,841
// succeeded/s with 16 payers (p50 5.2-5.7 ms, p99 10-11 ms) and
// 4,491-4,692/s with 64 (p50 14 ms, p99 22-26 ms), where the in-memory
// store did 11,518-12,973/s in the same runs; 317-460 µs of CPU per
// payment against 148-159 µs. With other work loading the machine the
// same benchmark gave 1,160-1,554/s. The single writer is the limit: the
// gateway's own work is the memory store's figure.
package sqlitestore
