package riprapredis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/riprap-go/riprap/resilience/breaker"
)

// syncLoop does all of the Breaker's Redis commands, off the call path:
// it publishes local openings, and re-reads the fleet key on every
// (re)subscription and every RepairInterval. A publish that fails is not
// queued: the next pass publishes whatever the local breaker's state is
// then, so only the latest opening is ever sent.
func (s *Breaker) syncLoop(ctx context.Context) {
	defer s.wg.Done()
	tick := s.set.clk.Ticker(s.set.repairEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.publishWake:
			s.publish(ctx)
		case <-s.resync:
			s.repair(ctx)
			s.publish(ctx)
		case <-tick.C:
			s.repair(ctx)
			s.publish(ctx)
			wake(s.holdWake) // a backstop for the hold's timer, as the breaker's lazy checks are
		}
	}
}

// repair reads the fleet key and adopts an opening no message brought.
// The first read after a confirmed subscription makes Start return: from
// then on the instance knows the fleet's state and hears of its changes.
func (s *Breaker) repair(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, s.set.timeout)
	defer cancel()
	vals, err := s.client.HMGet(rctx, s.set.stateKey, "epoch", "deadline", "wait", "origin", "reason").Result()
	if err != nil {
		s.failUnlessClosing(ctx, err)
		return
	}
	s.adopt(openingOf(vals), true)
	s.mu.Lock()
	if !s.readyDone && s.conn == connConnected {
		s.readyDone = true
		close(s.ready)
	}
	s.mu.Unlock()
}

// failUnlessClosing counts err, unless Close caused it.
func (s *Breaker) failUnlessClosing(ctx context.Context, err error) {
	if ctx.Err() == nil {
		s.fail(err)
	}
}

// openingOf reads HMGET's answer; missing fields (no key) read as zero.
func openingOf(vals []any) opening {
	str := func(i int) string {
		if i < len(vals) {
			if v, ok := vals[i].(string); ok {
				return v
			}
		}
		return ""
	}
	num := func(i int) int64 {
		n, _ := strconv.ParseInt(str(i), 10, 64)
		return max(n, 0)
	}
	return opening{epoch: num(0), deadline: num(1), wait: num(2), origin: str(3), reason: str(4)}
}

// publish sends the local breaker's opening to the fleet, once per local
// opening: a report only, if a quorum is not reached yet. Nothing is sent
// when the local breaker is not open by its own rules, in particular when
// it is held open for the fleet.
func (s *Breaker) publish(ctx context.Context) {
	snap := s.local.Snapshot()
	if snap.State != breaker.Open || snap.UntilHalfOpen <= 0 ||
		(s.reportedAny && snap.Generation == s.reportedGen) {
		return
	}
	now := s.set.clk.Now()
	waitMS := ceilMS(snap.UntilHalfOpen)
	s.mu.Lock()
	epoch, reason := s.epoch, s.lastReason
	s.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, s.set.timeout)
	defer cancel()
	res, err := openScript.Run(rctx, s.client, []string{s.set.stateKey, s.set.reports},
		s.set.instance, now.UnixMilli(), waitMS, epoch, s.set.quorum, s.set.quorumWindow.Milliseconds(),
		ceilMS(s.set.releaseDelay+keyGrace), s.set.channel, reason).Int64Slice()
	if err != nil || len(res) != 4 {
		if err == nil {
			err = fmt.Errorf("riprapredis: open script answered %v", res)
		}
		s.failUnlessClosing(ctx, err) // the next pass, or the next subscription, tries again
		return
	}
	s.reportedGen, s.reportedAny = snap.Generation, true
	// Counters move after the state they report, so that a reader who
	// sees a count also sees its effect.
	switch res[0] {
	case 1:
		s.mu.Lock()
		s.epoch = max(s.epoch, res[1]) // our own message may have come first
		s.mu.Unlock()
		s.published.Add(1)
	case 0:
		s.adopt(opening{epoch: res[1], deadline: res[2], wait: res[2] - now.UnixMilli(),
			reason: "already open at epoch " + strconv.FormatInt(res[1], 10)}, false)
		s.adopted.Add(1)
	default:
		s.reported.Add(1)
	}
}

func ceilMS(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// adopt records the fleet's opening o and, when it asks this instance to
// hold longer than it already does, wakes the hold goroutine. An opening is
// applied once: re-reading the key finds the same epoch and deadline and
// changes nothing, so a peer whose clock runs behind (whose hold is capped
// by the published wait) cannot extend its hold by reading again.
func (s *Breaker) adopt(o opening, read bool) {
	now := s.set.clk.Now()
	s.mu.Lock()
	s.epoch = o.epoch
	if o.origin == s.set.instance || o.deadline == 0 ||
		(o.epoch == s.applied.epoch && o.deadline == s.applied.deadline) {
		s.mu.Unlock()
		return
	}
	remaining := min(time.UnixMilli(o.deadline).Sub(now), time.Duration(o.wait)*time.Millisecond)
	if remaining <= 0 {
		s.mu.Unlock()
		return
	}
	s.applied = o
	until := now.Add(remaining + s.set.releaseDelay)
	news := until.After(s.holdUntil)
	if news {
		s.holdUntil = until
		s.holdReason = fmt.Sprintf("fleet: opened by %s (epoch %d): %s", orDefault(o.origin, "a peer"), o.epoch, o.reason)
		s.holdGen++
	}
	s.mu.Unlock()
	if news {
		if read {
			s.repaired.Add(1)
		}
		wake(s.holdWake)
	}
}
