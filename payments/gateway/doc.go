// Package gateway is the payment gateway riprap exists for: it takes
// payment requests and settles them through a bank, a currency-exchange
// service and a transaction log, any of which may fail, slow down or
// recover while many payments run at once, and it remembers every payment
// in a store that survives a restart.
//
// # Pipelines
//
// Each dependency gets its own pipelines of riprap guards, built once in
// [New]; every call runs a fresh closure through them
// (resilience.Pipeline.Execute), so a call's arguments never travel in its
// context:
//
//   - bank transfers: rate limit → bulkhead (when BankPolicy.MaxConcurrent
//     is set) → a look at breaker "bank" (refusing while it is open) →
//     retry (same idempotency key on every attempt, never on a decline,
//     nor on an answer asking for a longer pause than MaxRetryAfter) →
//     breaker "bank" → trip wire → timeout per attempt. The breaker judges
//     each attempt; the retry looks at it before each backoff and stops
//     when it would refuse; the trip wire ends the attempts in flight when
//     it opens, leaving their payments pending for the reconciler. So a
//     hang's first wave waits as long as the breaker takes to see the hang,
//     not an attempt timeout and a backoff each;
//   - bank status lookups: breaker "bank-status" → timeout;
//   - FX: fallback to the pair's last good quote within a staleness bound →
//     breaker "fx" → trip wire → timeout (the fallback is outermost so that
//     it also answers when the breaker refuses, and for the quotes the trip
//     wire ends when the breaker opens);
//   - log: breaker "log" → timeout around one Log.AppendBatch, in the
//     outbox replayer only, which reads nothing from the store while that
//     breaker refuses: no payment waits on the log, or on reads of the
//     backlog a log outage builds up.
//
// A payment that every bank's breaker refuses is rejected before it is
// priced: no quote is asked for, nor a settlement written, for a transfer
// no bank would take (each bank's refusal is recorded, as below).
//
// With several banks ([Config.Acquirers]) each has these pipelines of
// its own, its breakers named after it ("NAME", "NAME-status"); with one
// ([Config.Bank]) that bank is called "bank".
//
// Health checks probe every dependency whose client has a Health method
// and hold its breaker open while it is down (health.BindBreaker). A probe
// is never stricter than the calls it protects: each target declares its
// calls' timeout (health.Target.CallTimeout), from which package health
// derives the probe timeout, and [New] refuses a HealthPolicy.Timeout
// shorter than it. So a bank that answers slowly but within its call
// timeout is never held down.
//
// # States
//
// [Gateway.Pay] ends every payment in a definite, explained [State]:
// succeeded, declined (a business answer), rejected (not attempted — safe
// to retry later), or pending reconciliation (the bank may or may not have
// moved the money). A reconciler resolves pending payments through the
// bank's status lookup, re-sending the same idempotent transfer when the
// bank never saw it, with backoff. Status lookups have their own breaker,
// which no health check holds: a hold on transfers never keeps the
// reconciler from learning what became of a payment (a bank whose
// lookups really fail still opens that breaker).
//
// # Routing and failover
//
// A gateway with several acquirers offers each payment to them one after
// another until one takes it. The order for one payment is:
//
//  1. Config order, the priority order. Consecutive acquirers that all
//     have a Weight form a group sharing one place in the order: the
//     group's first member is chosen by smooth weighted round-robin among
//     its available members (weights 3 and 1 send three payments in four
//     to the first, evenly spread, with no randomness), the others follow
//     in Config order.
//  2. Then every unavailable acquirer moves after every available one,
//     each side keeping its order. An acquirer is unavailable while its
//     transfer breaker refuses every call (open, forced open, or held open
//     by its health check) or its health check says it is down; a
//     half-open breaker counts as available, so that real payments probe
//     a recovering bank. Unavailable acquirers are still tried last: their
//     guards refuse at once, unless the bank has come back.
//
// The payment moves on to the next acquirer only when the previous one's
// answer proves that its bank never processed it: a rejection by its
// guards (rate limit, bulkhead, breaker open or held) or an answer
// [Config.NotProcessed] recognises (an HTTP 503 the API sends before
// processing). It never moves on after a decline (a business answer), nor
// after an unknown outcome (a timeout, a lost reply): that payment is
// Pending at that bank, and a payment whose outcome is unknown at one bank
// is never sent to another, however long it stays pending. So no payment
// is debited at two banks.
//
// The store records the bank a payment is handed to (store.Record.Bank),
// once that bank's guards have admitted it and before any attempt can
// reach it. The reconciler asks that bank, and only that one, and a
// transfer it never saw is sent again there under the same idempotency
// key. A retry of a payment (same idempotency key) that is pending or
// settled is answered from the store, so it never moves to another bank;
// only a Rejected payment, which no bank processed, is routed afresh.
// A bank that refuses a payment is recorded too (store.Record.Refused),
// before the next one is offered it; when the store cannot record that,
// the payment goes no further, as when it cannot record a handover.
// [Result.Bank] names the bank that has the payment and
// [Result.RefusedBy] the acquirers that refused it first, answered fresh
// or read back from the store; [Status] shows each acquirer
// ([AcquirerStatus]).
//
// # The store
//
// Every payment lives in a store.Store ([Config.Store]): the ledger of
// payments by idempotency key and the outbox of log entries, written in one
// transaction per step. For one payment:
//
//	Claim → (FX) SaveSettlement → MarkStarted(bank) → bank transfer → Finish(result, entry)
//
// MarkStarted is written once the bank's guards have admitted the
// transfer, and written again, naming the next bank, when a payment fails
// over (see Routing and failover).
//
// A payment is reported Succeeded only once Finish has recorded it with
// its log entry, so an acknowledged payment's entry is as durable as the
// payment. If Finish fails after the bank moved money, the payment stays
// pending (MarkStarted left it so) and Pay answers Pending; the reconciler
// records it later. For the same reason a payment whose outcome is
// unknown is answered Pending before Finish records that: the write
// cannot change the answer, so Pay does not wait for it (Close does). A
// store that is full (its outbox bound counts queued
// entries and the slots reserved by open payments) or failing refuses new
// payments before the bank is called: Rejected, with a Retry-After. The
// gateway never keeps a payment or an entry in memory on the side. With no
// store configured it makes an in-memory one, which is not durable.
//
// A payment priced in one currency and settled in another is quoted once;
// the settled amount is saved before the transfer, so a retry sends the bank
// the same request even if the rate has moved since.
//
// # Restarts and a fleet
//
// A claim on a payment (a call of Pay, a reconciler check) and a lease on
// log entries belong to an instance ([Config.Instance]) and expire after
// ClaimTTL, and a claimant's bank calls end when its claim does. A gateway
// started on an existing store ends its own earlier run's claims
// (store.Ledger.Expire), then reconciles the pending payments and replays
// the outbox at once; a retry of a settled payment is answered from the
// store without reaching the bank ([Gateway.Recovery] says what it found).
// The default Instance is random per process, which is safe in a fleet but
// leaves a crashed run's claims to expire; give each process of a fleet its
// own stable name to resume at once.
//
// # The log
//
// The log never blocks or fails a payment. A replayer sends the outbox in
// batches of up to payments.MaxLogBatch entries, several in flight at once,
// acknowledges what the log stored, sets aside what it refused for good
// (listed in [Status] by IDs only), and sends the rest again in later
// batches, so one failing entry never holds up the others.
//
// # Serving
//
// [Gateway.Handler] serves payments over HTTP (POST /v1/payments, GET
// /v1/payments/{key}, the status page), so that the gateway can run as a
// process of its own; [Client] pays through it.
package gateway
