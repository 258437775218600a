package main

import (
	"context"
	"sync/atomic"
	"time"
)

// dependency simulates a service in-process: it answers after the service
// time, except during the outage, when a call hangs until its caller's
// deadline (a request into a dead host gets no answer). A call that
// arrived during the outage keeps hanging after the recovery: its request
// was lost.
//
// It counts the calls that reach it, by the window of the schedule they
// arrive in, separately for callers and health probes. It is safe for
// concurrent use.
type dependency struct {
	sched   schedule
	t0      time.Time
	service time.Duration

	calls, probes [3]atomic.Int64 // indexed by window
}

func newDependency(sched schedule, t0 time.Time, service time.Duration) *dependency {
	return &dependency{sched: sched, t0: t0, service: service}
}

// Call is a caller's request.
func (d *dependency) Call(ctx context.Context) error { return d.serve(ctx, &d.calls) }

// Probe is a health check's request. It behaves exactly like Call: a probe
// reaches the dependency too.
func (d *dependency) Probe(ctx context.Context) error { return d.serve(ctx, &d.probes) }

func (d *dependency) serve(ctx context.Context, count *[3]atomic.Int64) error {
	w := d.sched.at(time.Since(d.t0))
	count[w].Add(1)
	if w == during {
		<-ctx.Done()
		return ctx.Err()
	}
	if d.service <= 0 {
		return nil
	}
	t := time.NewTimer(d.service)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
