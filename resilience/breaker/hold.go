package breaker

import "time"

// HoldOpen makes the breaker refuse every call with [ErrOpen] because of an
// outside signal — typically a health check that found the dependency down
// (see health.BindBreaker) — until [Breaker.Release], [Breaker.Reset] or a
// manual state ends the hold. Rejections carry retryAfter, counted from
// now, as their RetryAfter: the time of the next health probe.
//
// The breaker enters [HeldOpen], not [ForcedOpen], so that a status page, a
// log or a rejection tells a health hold from a person's command. reason
// becomes the event's Reason; calling HoldOpen again while held only
// refreshes the retry-after, without an event. A breaker that a person
// forced open, closed or into metrics-only mode is left alone: a person's
// state always wins, so HoldOpen returns false and changes nothing.
func (b *Breaker) HoldOpen(reason string, retryAfter time.Duration) bool {
	retryAfter = max(retryAfter, 0)
	b.mu.Lock()
	now := b.now()
	ph := b.advance(now)
	switch {
	case ph.state == HeldOpen:
		ph.until.Store(satAdd(now, int64(retryAfter)))
	case ph.state.manual():
		b.mu.Unlock()
		return false
	default:
		b.enter(HeldOpen, now, retryAfter, reason, false)
	}
	b.mu.Unlock()
	b.disp.Flush()
	return true
}

// Release lets calls through again after an outside signal says the
// dependency is back: it ends a hold, and also cuts short an ordinary open
// wait. The breaker goes half-open, so that real traffic confirms the
// recovery with SuccessesToClose probes, or closed when closeNow is true.
// In any other state (closed, half-open, or a manual state, which a
// release never undoes) it does nothing. It reports whether it changed the
// state.
func (b *Breaker) Release(reason string, closeNow bool) bool {
	b.mu.Lock()
	now := b.now()
	ph := b.advance(now)
	changed := ph.state == HeldOpen || ph.state == Open
	if changed {
		to := HalfOpen
		if closeNow {
			to = Closed
		}
		b.enter(to, now, 0, reason, false)
	}
	b.mu.Unlock()
	b.disp.Flush()
	return changed
}
