package dst

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sim"
)

// Offsets that keep the driver's steps off the millisecond grid the
// gateway's timers run on, and off each other, so that no two things
// happen at one instant unless the world says so.
const (
	offFaults  = 211 * time.Nanosecond
	offCrash   = 419 * time.Nanosecond
	offRestart = 421 * time.Nanosecond
	offSample  = 503 * time.Nanosecond
	sampleStep = time.Second
)

// hangDelay is how long a hung request is held: longer than any call
// timeout a world draws, so the caller always gives up first.
const hangDelay = 30*time.Minute + 7*time.Microsecond

// event is one step of the driver, at an offset from the world's start.
type event struct {
	at time.Duration
	do func()
}

// schedule lists the driver's steps, in time order: payments arriving,
// error windows opening and closing, crashes and restarts, samples.
func (r *runner) schedule() []event {
	var evs []event
	for i := range r.traffic {
		p := &r.traffic[i]
		evs = append(evs, event{p.at, func() { r.launch(p) }})
	}
	for _, dep := range r.w.deps() {
		for _, w := range r.w.faults(dep).Windows {
			if w.Kind != Errors {
				continue // the injectors time the other windows themselves
			}
			for _, at := range []time.Duration{w.Start.D(), w.End.D()} {
				evs = append(evs, event{at + offFaults, func() {
					if err := r.setFaults(at); err != nil {
						r.out.Err = err.Error()
					}
				}})
			}
		}
	}
	for _, c := range r.w.Crashes {
		evs = append(evs, event{c.At.D() + offCrash, r.crash}, event{c.At.D() + c.Downtime.D() + offRestart, r.restart})
	}
	for at := time.Duration(0); at < r.w.Duration.D(); at += sampleStep {
		evs = append(evs, event{at + offSample, r.sample})
	}
	slices.SortStableFunc(evs, func(a, b event) int { return cmp.Compare(a.at, b.at) })
	return evs
}

// setFaults gives every injector the faults in force at offset at.
func (r *runner) setFaults(at time.Duration) error {
	for _, dep := range r.w.deps() {
		if err := r.inj[dep].Set(r.w.faults(dep).injected(at)); err != nil {
			return fmt.Errorf("dst: %s faults: %w", dep, err)
		}
	}
	return r.simLog.SetFaults(sim.LogFaults{ErrorRate: sim.Chance(r.w.Log.AppendErrorBP),
		BatchErrorRate: sim.Chance(r.w.Log.BatchErrorBP)})
}

// injected is what the injector applies at offset at: the noise, the
// errors windows open then, and every timed window.
func (f Faults) injected(at time.Duration) sim.Faults {
	out := sim.Faults{ErrorRate: sim.Chance(f.ErrorBP), LostReplyRate: sim.Chance(f.LostReplyBP),
		Latency: sim.Latency{Fixed: f.Latency.D(), Jitter: f.Jitter.D()}}
	if f.CloseOnLost {
		out.LostReply = sim.CloseConnection
	}
	for _, w := range f.Windows {
		start, end := w.Start.D(), w.End.D()
		switch w.Kind {
		case Errors:
			if at >= start && at < end {
				out.ErrorRate = max(out.ErrorRate, sim.Chance(w.ErrorBP))
			}
		case Outage:
			out.Windows = append(out.Windows, sim.Window{Kind: sim.Outage, Start: start, End: end})
		case Hang:
			out.Windows = append(out.Windows, sim.Window{Kind: sim.Slowdown, Start: start, End: end, Extra: hangDelay})
		case Slowdown:
			out.Windows = append(out.Windows, sim.Window{Kind: sim.Slowdown, Start: start, End: end, Extra: w.Extra.D()})
		case Flap:
			for t := start; t < end && w.Period > 0; t += 2 * w.Period.D() {
				out.Windows = append(out.Windows, sim.Window{Kind: sim.Outage, Start: t, End: min(t+w.Period.D(), end)})
			}
		}
	}
	return out
}

// launch starts a payment's client.
func (r *runner) launch(p *payment) {
	r.clients.Add(1)
	r.mu.Lock()
	r.inFlight++
	r.mu.Unlock()
	go func() {
		defer r.clients.Done()
		r.pay(p)
		r.mu.Lock()
		r.inFlight--
		r.mu.Unlock()
	}()
}

// pay is one client: it sends the payment, and sends it again (same key)
// after a rejection or no answer, as long as traffic lasts and it has
// retries left.
func (r *runner) pay(p *payment) {
	end := r.start.Add(r.w.Duration.D())
	for attempt := 0; ; attempt++ {
		label := fmt.Sprintf("p%06d/%02d", p.idx, attempt)
		ctx, cancel := withLabel(r.clientsCtx, label), context.CancelFunc(func() {})
		if t := r.w.Client.Timeout.D(); t > 0 {
			ctx, cancel = context.WithTimeout(ctx, t)
		}
		res, err := r.client.Pay(ctx, p.req)
		cancel()
		r.mu.Lock()
		r.out.Answers = append(r.out.Answers, r.answerOf(p.idx, attempt, label, res, err))
		r.mu.Unlock()
		if attempt >= r.w.Client.Retries || (err == nil && res.State != gateway.Rejected) {
			return
		}
		wait := max(r.w.Client.RetryWait.D(), res.RetryAfter)
		if !time.Now().Add(wait).Before(end) || !r.sleep(wait) {
			return
		}
	}
}

// sleep waits d unless the world ends first.
func (r *runner) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.clientsCtx.Done():
		return false
	}
}

// answerOf is what a client got. r.mu is held.
func (r *runner) answerOf(idx, attempt int, label string, res gateway.Result, err error) Answer {
	ans := r.http[label] // none when no answer came
	a := Answer{Payment: idx, Attempt: attempt, At: r.offset(), Status: ans.status, RetryAfterHeader: ans.retryAfter}
	if err != nil {
		a.Error = err.Error()
		return a
	}
	a.State, a.Reason, a.TransferID, a.RetryAfter = string(res.State), res.Reason, res.TransferID, Duration(res.RetryAfter)
	return a
}
