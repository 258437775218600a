// Package payments holds the money types and the service contracts of the
// riprap payment gateway: [Money] as int64 minor units of an ISO 4217
// [Currency], exact [Rate] conversion with a chosen [Rounding], validated
// [PaymentRequest]s, and the [Bank], [FX] and [Log] interfaces with their
// errors.
//
// No floating point touches an amount. Parsing is strict ("12.34 USD", at
// most the currency's number of decimals), arithmetic reports overflow, and
// conversion is computed in math/big from a rational rate, then rounded
// half-even unless told otherwise.
//
// Nothing that looks like a card number gets in: free text and account IDs
// are checked with [ContainsCardNumber], which reads digits of any script
// and joins digit groups across any separator that is not a letter.
//
// The [Log] is idempotent by payment ID and appends in batches of up to
// [MaxLogBatch] entries, each entry with its own result ([AppendEach]
// builds the batch method from single appends). A [TransferRequest] may
// name the payment it settles ([TransferRequest.PaymentID]), so that one
// payment charged under two idempotency keys can be found.
//
// Transports and storage live in sub-packages: payments/httpapi (HTTP/JSON
// clients and handlers), payments/sim (simulated services with fault
// injection), payments/store (the gateway's ledger and outbox, with an
// in-memory implementation), and the modules payments/sqlitestore and
// payments/pgstore (durable stores on SQLite and PostgreSQL).
package payments
