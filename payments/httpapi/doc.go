// Package httpapi carries the payments services over HTTP/JSON: typed
// clients ([BankClient], [FXClient], [LogClient]) that implement the
// payments interfaces, handlers ([NewBankHandler], [NewFXHandler],
// [NewLogHandler]) that serve any implementation of them, and
// [HandlerTransport], which serves a handler in-process for deterministic
// simulations.
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
//   - [ErrClientError] (the service's own 4xx, other than 408 and 429):
//     permanent; Permanent() reports true and payments.IsPermanent agrees,
//     so retry policies stop. Where the body names a domain error, the
//     error also matches it (payments.ErrDeclined with a
//     *payments.DeclineError, payments.ErrIdempotencyConflict,
//     payments.ErrNotFound, payments.ErrNoRate, payments.ErrInvalidRequest,
//     payments.ErrBatchTooLarge).
//   - [ErrInfrastructure] (a 4xx that is not the service's answer): the
//     response has no JSON error body with a code of this API — an auth
//     proxy's 401 or 403, a load balancer's HTML 404 for an unknown route,
//     a WAF's refusal. It had no effect, but it is no answer of the bank: a
//     failure for breakers (expired credentials or a broken route must not
//     look like a healthy bank), not permanent (so a payment is never
//     declined, nor a log entry set aside, on it), and [NotProcessed].
//
// An error caused by the caller's own context also matches its context
// error, so resilience.DefaultOutcome ignores it. [Outcome] is the
// classifier for breakers (a decline is a success of the dependency), and
// [NotProcessed] tells "not attempted, safe to retry" from "outcome
// unknown, reconcile".
//
// # Clients and resilience/httpx
//
// The clients carry no policy of their own: the caller composes them, as
// payments/gateway does with a pipeline per dependency (breaker, retry,
// attempt timeout) that judges each attempt and records whether any may
// have reached the bank. An httpx.Transport under such a pipeline would
// retry and break a second time, hide attempts from the pipeline (a
// payment it calls rejected may have been sent by a retry inside the
// transport), and put a breaker in front of the health probes, whose job
// is to reach a dependency while its breaker is open. So by default the
// clients run on a plain net/http client, and take from resilience/httpx
// only what is right under any caller:
//
//   - connection handling: a response body the client stops reading (one
//     over MaxResponseBytes) is drained with httpx.DrainBody, so its
//     connection serves the next call;
//   - Retry-After: read by httpx.ParseRetryAfter (seconds or HTTP-date),
//     with this package's bound: a hint past a day is no hint;
//   - classification: a transfer and a log entry carry their key in an
//     Idempotency-Key header, so a transport that retries
//     (httpx.SafeToRepeat) knows it may send them again; and a refusal by
//     a policy in the HTTP client's transport stays a rejection through
//     the client's [*Error] ([ErrTransport]): [Outcome] ignores it, and
//     [NotProcessed] reports false, since a transport that retries may
//     have sent an earlier attempt.
//
// A client used on its own, with no pipeline around it, gets per-host
// breakers and retries by taking an httpx.Transport in its
// ClientConfig.HTTPClient (see the BankClient example). [NotProcessed]
// then speaks for the last attempt only: a 503 after a retried 500 proves
// nothing about the 500.
//
// # Wire format
//
// Amounts travel as strings in the payments.Money form ("12.34 USD"), rates
// as decimal or ratio strings ("0.9215", "1/3"): never JSON numbers, which
// decoders read as float64. Handlers refuse unknown fields, trailing data and
// bodies over a size limit, and never panic on garbage.
//
// A log batch is one POST of a [BatchRequest] to [PathEntriesBatch]:
//
//	{"entries": [{"payment_id": "pay-1", …}, {"payment_id": "pay-2", …}]}
//
// answered 200 with one [BatchResult] per entry, in order, each holding the
// status POST [PathEntries] would have answered for that entry alone:
//
//	{"results": [{"status": 204},
//	             {"status": 409, "error": {"code": "idempotency_conflict", "message": "…"}},
//	             {"status": 503, "error": {"code": "overloaded", "message": "…"}, "retry_after": 1}]}
//
// The batch is refused whole only when it cannot be read as one (400
// malformed_request, 413 too_large over HandlerConfig.MaxBatchBodyBytes,
// 413 batch_too_large over payments.MaxLogBatch entries) or when the log
// fails it whole (503, 500); a malformed or invalid entry gets its own 400
// result and the others are appended. [LogClient.AppendBatch] turns each
// result into the error Append would have returned.
package httpapi
