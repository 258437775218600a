package backoff

import "time"

// Strategy computes delays: before a retry, or before a breaker that opened
// again may try half-open. It is non-generic so one schedule serves calls
// of any result type.
//
// attempt counts from 1 (the first retry, or the first re-open); prev is the
// delay this strategy returned for the previous attempt of the same sequence
// (0 before the first), which stateful-looking schedules such as
// decorrelated jitter need. Implementations are safe for concurrent use and
// keep no per-sequence state of their own.
type Strategy interface {
	Delay(attempt int, prev time.Duration) time.Duration
}
