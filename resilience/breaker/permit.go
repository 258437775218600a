package breaker

import (
	"context"
	"fmt"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// Permit is the right to make one call, returned by [Breaker.Allow]. Report
// the call's outcome with [Permit.Done] or [Permit.DoneErr].
//
// A permit reports once: Done clears it, so a second Done on the same
// Permit is a no-op, and so is Done on the zero Permit. Keep the Permit in
// one variable: copies of a closed-state permit would each count, since
// telling them apart would cost the closed path an allocation. A half-open
// probe's copies share one record, so the first report of any of them
// releases the slot and counts, and the others do nothing. A permit from an
// earlier state of the breaker (it opened, closed or was reset since) is
// counted in the totals but changes nothing else.
//
// A Permit is not safe for concurrent use; the breaker it came from is.
type Permit struct {
	b     *Breaker
	ph    *phase
	start int64  // when admitted, if the breaker stamps calls
	probe *probe // half-open only
}

// probe makes a half-open permit report once, copies included.
type probe struct {
	done bool // protected by Breaker.mu
}

// Done reports the outcome of the call. [resilience.Unclassified] counts as
// Ignored.
func (p *Permit) Done(o resilience.Outcome) { p.finish(o, nil) }

// DoneErr reports the call's error (nil for success), judged as
// [Breaker.Guard] judges it; ctx is the context the call ran under, so the
// caller's own cancellation counts as Ignored. A Retry-After carried by a
// failing err may lengthen the open wait (see [Config]).
func (p *Permit) DoneErr(ctx context.Context, err error) {
	if p.b == nil {
		return
	}
	p.finish(p.b.judge(ctx, err), err)
}

func (p *Permit) finish(o resilience.Outcome, err error) {
	b, ph := p.b, p.ph
	if b == nil {
		return
	}
	p.b = nil
	if o == resilience.Success && !b.stampOut && p.probe == nil {
		// The hot path: succeed, written out here, one call less.
		if !ph.calls.addBase() && !ph.calls.add() {
			b.late(&b.succFolded)
		} else if ph.consecutive.Load() != 0 {
			ph.consecutive.Store(0)
		}
		return
	}
	var end int64
	switch {
	case p.probe != nil:
		end = b.now()
	case b.stampOut:
		end = b.stamp()
	}
	slow := b.set.slowDur > 0 && o != resilience.Ignored && o != resilience.Unclassified &&
		end-p.start >= b.set.slowDur
	if p.probe != nil {
		if b.finishProbe(ph, p.probe, o, slow, err, end) && b.emitOutcome {
			b.emitOutcomeEvent(o, err, p.start, end)
		}
		b.disp.Flush() // after the outcome, which caused the change
		return
	}
	if b.emitOutcome {
		b.emitOutcomeEvent(o, err, p.start, end)
	}
	if slow {
		b.slow.Add(1)
	}
	switch {
	case o == resilience.Success && !slow:
		b.success(ph, end)
	case o == resilience.Success || o == resilience.Failure:
		b.record(ph, o == resilience.Failure, slow, err, end)
	default:
		b.ignored.Add(1)
	}
}

// succeed counts a success on the hot path: no clock, no slow-call rule,
// no outcome listener, no time window, no probe. It is success written
// out, one call less.
func (b *Breaker) succeed(ph *phase) {
	if !ph.calls.addBase() && !ph.calls.add() {
		b.late(&b.succFolded)
	} else if ph.consecutive.Load() != 0 {
		ph.consecutive.Store(0)
	}
}

// emitOutcomeEvent delivers an outcome on the caller's goroutine. Callers
// check b.emitOutcome first: with no listener of outcomes, a call builds no
// event and reads no clock for one.
func (b *Breaker) emitOutcomeEvent(o resilience.Outcome, err error, start, end int64) {
	b.disp.EmitRef(&resilience.Event{
		Kind: resilience.EventOutcome, Policy: policyName, Name: b.name, Time: b.at(end),
		Outcome: o, Duration: time.Duration(end - start), Err: err,
	})
}

// success counts a fast success: no lock, no allocation, and no shared
// write but the adder's, which stays on the calling core's cache line once
// calls collide, and, in a time window, its bucket's. A consecutive-failure
// count already at zero is only read.
func (b *Breaker) success(ph *phase, end int64) {
	if !ph.calls.addBase() && !ph.calls.add() {
		b.late(&b.succFolded) // the phase was retired: see phase.calls
		return
	}
	if ph.consecutive.Load() != 0 {
		ph.consecutive.Store(0)
	}
	if b.set.layout == layoutTime && ph.state.counts() {
		ph.win.add(b.set, end)
	}
}

// record counts a failure or a slow success and, in a counting phase,
// applies the trip rules.
func (b *Breaker) record(ph *phase, failed, slow bool, err error, end int64) {
	if failed {
		b.fail.Add(1)
	}
	if !ph.state.counts() {
		if !failed && !ph.calls.add() {
			b.late(&b.succFolded)
		}
		return
	}
	retryAfter := b.retryAfter(err)
	b.mu.Lock()
	switch {
	case b.cur.Load() != ph:
		// Retired: its window is gone, its totals folded.
		if !failed {
			b.succFolded++
		}
	case failed:
		ph.recorded++
		ph.failures++
		b.observe(ph, true, slow, ph.consecutive.Add(1), retryAfter, end)
	default:
		ph.recorded++
		ph.consecutive.Store(0)
		b.observe(ph, false, slow, 0, retryAfter, end)
	}
	b.mu.Unlock()
	b.disp.Flush()
}

// observe puts the call just recorded in ph's window and opens the breaker
// if a rule now holds. Its sequence is the calls the phase has counted,
// itself included: successes so far plus the calls counted under the lock,
// which rises with every call recorded, so the window is written in order.
// b.mu must be held.
func (b *Breaker) observe(ph *phase, failed, slow bool, consecutive int64, retryAfter time.Duration, end int64) {
	n := ph.calls.sum() + ph.recorded
	ph.win.record(b.set, n-1, end, failed, slow)
	st := ph.win.stats(b.set, ph.calls.sum()+ph.recorded, end)
	if reason := b.tripReason(consecutive, st); reason != "" {
		if !b.stampOut || b.coarse {
			end = b.now() // unread so far, or coarse: only opening needs the exact time
		}
		b.trip(end, false, reason, retryAfter)
	}
}

// tripReason returns why a rule holds, or "" when none does.
func (b *Breaker) tripReason(consecutive int64, st windowStats) string {
	s := b.set
	if s.consecutive > 0 && consecutive >= s.consecutive {
		return fmt.Sprintf("%d consecutive failures", consecutive)
	}
	if st.calls < s.minCalls || st.calls == 0 {
		return ""
	}
	if r := float64(st.failures) / float64(st.calls); s.failureRate > 0 && r >= s.failureRate {
		return fmt.Sprintf("failure rate %.2f >= %.2f over %d calls", r, s.failureRate, st.calls)
	}
	if r := float64(st.slow) / float64(st.calls); s.slowRate > 0 && r >= s.slowRate {
		return fmt.Sprintf("slow-call rate %.2f >= %.2f over %d calls", r, s.slowRate, st.calls)
	}
	return ""
}

// finishProbe reports a half-open probe: a failure (or a slow call, under
// the slow-call rule) opens the breaker again, enough successes close it,
// and any outcome frees the slot. Only the first report of a probe and its
// copies counts; finishProbe returns whether this was it. The caller
// flushes the state change it may have queued.
func (b *Breaker) finishProbe(ph *phase, pr *probe, o resilience.Outcome, slow bool, err error, end int64) bool {
	retryAfter := b.retryAfter(err)
	b.mu.Lock()
	first := !pr.done
	if first {
		pr.done = true
		b.countProbe(o, slow)
		// A probe reporting after MaxHalfOpen finds the breaker already
		// re-opened, and so belongs to an earlier generation.
		if b.advance(end) == ph {
			ph.inflight--
			b.judgeProbe(ph, o, slow, retryAfter, end)
		}
	}
	b.mu.Unlock()
	return first
}

// countProbe counts a probe's outcome in the totals. b.mu must be held.
func (b *Breaker) countProbe(o resilience.Outcome, slow bool) {
	switch o {
	case resilience.Success:
		b.succFolded++
	case resilience.Failure:
		b.fail.Add(1)
	default:
		b.ignored.Add(1)
	}
	if slow {
		b.slow.Add(1)
	}
}

func (b *Breaker) judgeProbe(ph *phase, o resilience.Outcome, slow bool, retryAfter time.Duration, end int64) {
	switch {
	case o == resilience.Failure:
		b.trip(end, true, "probe failed", retryAfter)
	case o != resilience.Success:
	case slow:
		b.trip(end, true, "probe was slow", retryAfter)
	default:
		ph.successes++
		if ph.successes >= b.set.successesToClose {
			b.enter(Closed, end, 0, fmt.Sprintf("%d probes succeeded", ph.successes), false)
		}
	}
}

// retryAfter reads a failing error's Retry-After. It runs outside the lock
// because it calls methods of the caller's error.
func (b *Breaker) retryAfter(err error) time.Duration {
	if err == nil || !b.set.useRetryAfter {
		return 0
	}
	d, _ := resilience.RetryAfter(err)
	return d
}
