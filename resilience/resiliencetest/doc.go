// Package resiliencetest provides helpers for testing code that uses
// riprap's policies, as net/http/httptest does for HTTP handlers: a
// [Recorder] that collects a policy's events, and scripted operations
// ([FailN], [Script], [Blocking]) that fail, succeed or hang on cue.
//
// Every helper is safe for concurrent use and needs no real time: a
// [Blocking] operation waits for [Blocking.Release] or its context, so a
// timeout or bulkhead test runs inside a testing/synctest bubble.
package resiliencetest
