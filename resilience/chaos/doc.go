// Package chaos injects faults into pipelines, so that a team can rehearse
// an outage in staging with the very pipelines it runs in production.
//
// An [Injector] is a [resilience.Guard] that, on a share of the calls it
// sees, does one of four things instead of (or before) the call:
//
//   - [Fault] returns an error, wrapped so that it matches [ErrInjected]
//     and the given error; it counts as a failure to breakers, retries and
//     throttles downstream, exactly as a real fault would;
//   - [Latency] waits, on an injectable clock, before making the call, and
//     ends the wait when the caller's context does;
//   - [Result] answers with a value instead of making the call;
//   - [Behavior] runs a function first (kill a connection, fill a disk),
//     which may end the call with an error.
//
// Every injector starts switched off, so one can ship in a production
// pipeline: [Injector.Enable] and [Injector.Disable] switch it at run time
// (an atomic flag), and [Config.Enabled] narrows it per call (a header, a
// tenant). A switched-off injector costs one atomic load per call.
// Decisions are drawn from a PCG generator seeded by [Config.Seed], so a
// rehearsal can be replayed.
//
// Decisions: the zero Rate means every call (an outage), because an
// injector is off until switched on; injectors emit no events, since the
// core has no event kind for an injection, and report their counts through
// [Injector.Snapshot] instead.
package chaos
