package riprapredis

import (
	"context"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience/breaker"
)

const failClosedReason = "riprapredis: redis unreachable, failing closed"

// holdLoop places and releases this instance's holds on its local
// breaker. It is the only goroutine that calls HoldOpen and Release, so
// they never race each other; a timer on the breaker's clock wakes it at
// the end of a hold.
func (s *Breaker) holdLoop(ctx context.Context) {
	defer s.wg.Done()
	t := s.set.clk.Timer(time.Hour)
	stopTimer(t)
	defer stopTimer(t)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.holdWake:
		case <-t.C:
		}
		next := s.reconcile()
		stopTimer(t)
		if next > 0 {
			t.Reset(next)
		}
	}
}

// stopTimer stops t and empties its channel, so that a Reset never finds
// an old tick (a mock clock's timer would block on a second one).
func stopTimer(t *clock.Timer) {
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
}

// reconcile makes the local breaker match what the fleet asks of it, and
// returns when to look again (0: when woken).
//
// A hold that somebody else ended (a person's reset or manual state, a
// health check's release) is not placed again for the same news: only a
// new opening or a change of connection holds again.
func (s *Breaker) reconcile() time.Duration {
	now := s.set.clk.Now()
	s.mu.Lock()
	until, reason, gen := s.holdUntil, s.holdReason, s.holdGen
	failHold := s.set.failClosed && s.conn == connDisconnected
	s.mu.Unlock()
	holding := s.holding.Load()
	if holding && s.local.State() != breaker.HeldOpen {
		holding = false
	}
	fleet := until.After(now)
	if !fleet && !failHold {
		if holding && s.local.Release("riprapredis: hold over", false) {
			s.releases.Add(1)
		}
		s.holding.Store(false)
		return 0
	}
	retry := s.set.repairEvery
	if fleet {
		retry = until.Sub(now)
	} else {
		reason = failClosedReason
	}
	switch {
	case holding:
		s.appliedGen = gen
		holding = s.local.HoldOpen(reason, retry) // refreshes the rejections' RetryAfter
	case gen != s.appliedGen:
		if snap := s.local.Snapshot(); snap.State == breaker.Open && snap.UntilHalfOpen >= retry {
			// The local opening already outlasts the hold: look again
			// when it ends, in case the hold is still wanted then.
			s.holding.Store(false)
			return snap.UntilHalfOpen
		}
		s.appliedGen = gen
		if holding = s.local.HoldOpen(reason, retry); holding {
			s.holds.Add(1)
		}
	}
	s.holding.Store(holding)
	if fleet {
		return retry
	}
	return 0
}
