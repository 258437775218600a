// Package health probes dependencies proactively, so that a dead bank is
// known before the next customer pays and a recovered one is tried again
// soon.
//
// A [Checker] runs one probe loop per [Target]; a target's status flips only
// after a configured number of consecutive results (hysteresis). Statuses
// reach listeners as events, drive circuit breakers through [BindBreaker]
// (any [Holder]), and refuse calls fast through [Checker.Gate], a
// [github.com/riprap-go/riprap/resilience.Guard] for pipelines of any
// result type. A probe is never stricter than the calls it protects: give
// each target its [Target.CallTimeout]. The HTTP readiness handler lives
// in the httpx package.
package health
