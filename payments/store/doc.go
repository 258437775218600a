// Package store is the gateway's durable memory: a ledger of payments by
// idempotency key and an outbox of transaction-log entries, written
// together so that a payment is never reported succeeded without its log
// entry being as durable as the payment itself (the transactional outbox).
//
// [Store] is the contract; [NewMemory] is the in-memory implementation for
// tests and benchmarks; payments/sqlitestore (its own module, so that only
// its users download a database driver) is the embedded durable one; the
// suite in payments/store/storetest holds every implementation to the same
// rules.
//
// # One transaction per state change
//
// Each method is one atomic change: [Ledger.Finish] records a payment's
// outcome and queues its log entry together, or does neither. The gateway
// calls them in this order for one payment:
//
//	Claim → SaveSettlement (if converted) → MarkStarted → (the bank) → Finish
//
// MarkStarted is written before the transfer is handed to the bank, so a
// process that dies while the bank works leaves the payment pending, and
// the reconciler of the next process resolves it ([Ledger.DuePending]).
// With several banks, a bank that refuses the payment without processing
// it is recorded with MarkRefused before the next bank is tried, so the
// record names the bank it went to ([Record.Bank]) and the ones that
// refused it ([Record.Refused]):
//
//	Claim → MarkStarted(a) → (a refuses) → MarkRefused(a) → MarkStarted(b) → Finish
//
// # Claims
//
// A payment is worked on by one claimant at a time: a call of Pay, or the
// reconciler. A claim has a token, which every later write of the claimant
// presents ([ErrClaimLost] when another claimant has taken the payment
// over), and an expiry, after which another claimant may take it over — a
// process that crashed holding claims does not hold them for ever. A
// restarted process frees its own earlier claims at once with
// [Ledger.Expire].
//
// # Capacity
//
// The outbox is bounded by [Config.MaxOutbox]. Every claim that may end in
// a log entry reserves a slot, so [Ledger.Finish] never fails for lack of
// room once the bank has moved money; a claim that would exceed the bound is
// refused with an error matching [ErrFull] that is a rejection carrying a
// Retry-After, before the bank is called.
package store
