// Package pgstore keeps the payment gateway's ledger and outbox in
// PostgreSQL: the [store.Store] of payments/store that a fleet of gateway
// instances shares. An idempotent retry is answered by any instance, a
// payment is settled by one instance only, and the reconciler and the
// outbox replay run on every instance without two of them working on the
// same payment or sending the same log entry at once. It is its own Go
// module so that only its users download a database driver
// (github.com/jackc/pgx/v5, pure Go, through its database/sql driver).
//
// Every call to the database goes through resilience/sqlguard, with the
// guards of [Config.Guards] and PostgreSQL's own error classification
// ([Classify], by SQLSTATE): a lost connection, a server shutting down, a
// full disk or a deadlock is a failure for a breaker; a constraint
// violation is an answer.
//
// # Locking rules
//
// Every method is one transaction (READ COMMITTED) or one statement, and
// decides with the rules of payments/store (store.ApplyClaim,
// store.ApplyFinish, …: the functions the in-memory and SQLite stores
// apply), so all three answer alike:
//
//   - A new payment is an INSERT … ON CONFLICT DO NOTHING on its primary
//     key: of two instances claiming a new key at once, one inserts, the
//     other waits for that insert to commit and then finds the row.
//   - Every other write to a payment reads it with SELECT … FOR UPDATE,
//     applies the rule and writes it back in the same transaction: the row
//     lock makes the writes to one payment happen one after the other, and
//     the claim token each write presents (store.ErrClaimLost otherwise)
//     fences off a claimant whose claim expired and was taken over.
//   - DuePending and Next select with FOR UPDATE SKIP LOCKED, oldest first,
//     and claim or lease what they selected in the same transaction:
//     reconcilers and replayers of a fleet take disjoint sets at once and
//     never wait for one another. A claim or lease lasts until the time
//     the caller's Lease gives; the store reads no clock of its own, so the
//     instances' clocks must agree to within a small part of the TTL.
//   - The outbox's bound is a counter row, outbox_capacity. A claim that
//     needs a slot increments it in its own transaction, only while it is
//     below MaxOutbox (store.ErrFull otherwise); Finish, Ack and Refuse
//     give slots back in theirs. The counter's row lock makes concurrent
//     claims take slots one after the other, so the bound holds across the
//     fleet; it is taken last, just before COMMIT, so it is held briefly.
//   - A transaction PostgreSQL rolls back as a deadlock or a serialization
//     failure is run again from the start (up to four times).
//   - Every session sets idle_in_transaction_session_timeout
//     ([Config.IdleInTransactionTimeout]): an instance frozen while holding
//     a payment's row lock loses its session, and the lock, instead of
//     stalling the fleet.
//
// # Schema
//
// The tables live in their own schema ([Config.Schema], "riprap" by
// default), created by [Open] with numbered migrations recorded in
// schema_version, all in one transaction under pg_advisory_xact_lock, so
// instances starting together migrate once. A schema written by a newer
// version is refused ([ErrNewerSchema]).
//
//	payments          one row per idempotency key
//	  key             TEXT COLLATE "C" PRIMARY KEY, checked against the key rule
//	  amount_minor    BIGINT > 0, with currency TEXT ~ '^[A-Z]{3}$'
//	                  (money is integer minor units and a code, never a float)
//	  settled_minor   BIGINT > 0 with settled_currency, both or neither
//	  quote_*         from, to, rate as BIGINT num/den > 0, as-of: all or none
//	  state           '', succeeded, declined, rejected, pending_reconciliation
//	  claim_*         token, owner, expires: all or none, only on '' or pending
//	  next_check_ns   when the reconciler looks again (NULL: at once)
//	  log             0..3: not logged, queued, delivered, set aside
//	outbox            one row per queued or refused log entry
//	  seq             identity: the order of Next
//	  payment_id      UNIQUE, REFERENCES payments
//	  amount_minor    BIGINT >= 0, credited_minor likewise
//	  lease_*         owner and expiry of the replayer holding it
//	  refused         with refused_reason and refused_at_ns
//	outbox_capacity   one row: slots used by queued entries and open payments
//	schema_version    the migrations applied
//
// Times are BIGINT nanoseconds since 1970, NULL for the zero time, so that
// the times callers give come back exactly.
package pgstore
