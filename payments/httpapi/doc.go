// Package httpapi carries the payments services over HTTP/JSON: typed
// clients ([BankClient], [FXClient], [LogClient]) that implement the
// payments interfaces, and handlers ([NewBankHandler], [NewFXHandler],
// [NewLogHandler]) that serve any implementation of them.
//
// # Errors
//
// Every client error is an [*Error] and matches one class sentinel with
// errors.Is, chosen for the retry and breaker policies built on top:
//
//   - [ErrOverloaded] (429, 503): the server refused before processing the
//     request, so it had no effect. It carries the Retry-After header through
//     a RetryAfter() time.Duration method, which resilience.RetryAfter
//     finds. It is deliberately not a resilience rejection: it is evidence
//     that the dependency is struggling, so breakers count it as a failure;
//     but, like a rejection, it is safe to retry later.
//   - [ErrServerFailure] (other 5xx, and 408), [ErrTransport] (network
//     errors, timeouts) and [ErrMalformedResponse] (a 2xx whose body cannot
//     be read): failures whose effect is unknown — a transfer may have been
//     committed. Retry with the same idempotency key, or look the status up.
//   - [ErrClientError] (other 4xx): permanent; Permanent() reports true and
//     payments.IsPermanent agrees, so retry policies stop. Where the body
//     names a domain error, the error also matches it (payments.ErrDeclined
//     with a *payments.DeclineError, payments.ErrIdempotencyConflict,
//     payments.ErrNotFound, payments.ErrNoRate, payments.ErrInvalidRequest).
//
// An error caused by the caller's own context also matches its context
// error, so resilience.DefaultOutcome ignores it. [Outcome] is the
// classifier for breakers (a decline is a success of the dependency), and
// [NotProcessed] tells "not attempted, safe to retry" from "outcome
// unknown, reconcile".
//
// # Wire format
//
// Amounts travel as strings in the payments.Money form ("12.34 USD"), rates
// as decimal or ratio strings ("0.9215", "1/3"): never JSON numbers, which
// decoders read as float64. Handlers refuse unknown fields, trailing data and
// bodies over a size limit, and never panic on garbage.
package httpapi
