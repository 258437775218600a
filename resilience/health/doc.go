// Package health probes dependencies proactively, so that a dead bank is
// known before the next customer pays and a recovered one is tried again
// soon.
//
// A [Checker] runs one probe loop per [Target]; a target's status flips only
// after a configured number of consecutive results (hysteresis). Statuses
// reach listeners as events, drive circuit breakers through
// [BindBreaker], refuse calls fast through [Policy], and are served as JSON
// by [Handler].
package health
