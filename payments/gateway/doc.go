// Package gateway is the payment gateway riprap exists for: it takes
// payment requests and settles them through a bank, a currency-exchange
// service and a transaction log, any of which may fail, slow down or
// recover while many payments run at once.
//
// Each dependency gets its own pipeline of riprap policies, built once:
//
//   - bank: rate limit → breaker → retry (same idempotency key on every
//     attempt, never on a decline) → timeout per attempt;
//   - FX: fallback to the last good quote for the pair within a staleness
//     bound → breaker → timeout (the fallback is outermost so that it also
//     answers when the breaker refuses);
//   - log: breaker → timeout; a failed or refused append goes to an outbox
//     that is replayed, in order and idempotently, when the log's breaker
//     closes, so the log never blocks or fails a payment.
//
// Health checks probe every dependency whose client has a Health method and
// hold its breaker open while it is down.
//
// [Gateway.Pay] ends every payment in a definite, explained [State]:
// succeeded, declined (a business answer), rejected (not attempted — safe
// to retry later), or pending reconciliation (the bank may or may not have
// moved the money). A reconciler resolves pending payments through the
// bank's status lookup, re-sending the same idempotent transfer when the
// bank never saw it, with backoff.
//
// A payment priced in one currency and settled in another (TargetCurrency)
// is quoted once; the settled amount is remembered with the idempotency
// key, so a retry of the same payment sends the bank the same request even
// if the rate has moved since.
//
// The ledger of payments is in memory: it makes the gateway idempotent for
// the life of the process, which is what the demo and the tests need; a
// production gateway would keep it in a database.
package gateway
