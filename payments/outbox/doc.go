// Package outbox keeps transaction-log entries that could not be appended
// yet, so they can be replayed, in order and once each, when the log
// recovers: [Memory] for tests and [File], durable across crashes.
//
// An entry is queued once per payment ID while pending, the queue is
// bounded ([ErrFull]), and [Drain] delivers oldest first, stopping at the
// first failure so that order holds. Delivery is at-least-once across a
// crash between a send and its Ack, so the receiver must be idempotent by
// payment ID, as payments.Log is.
//
// [File] appends checksummed put and ack records to one file and fsyncs
// each before returning; see its documentation for the format and for
// recovery from a torn tail.
package outbox
