// Command outage drives the same simulated dependency outage through each
// contender — no breaker, sony/gobreaker v2, failsafe-go, riprap's breaker
// in a chain and through its two-step Allow/Done, and riprap's breaker
// bound to a health checker — and reports, per phase:
// how many calls reached the dead dependency, the callers' p99 latency
// during the outage, the time from the dependency's recovery to the
// breaker closing, and the successful calls against the unprotected run.
//
// The dependency answers in -service, then for the outage hangs every call
// until the caller's -timeout, then recovers. -callers goroutines per
// contender call it in a loop, pausing about -think between calls. The
// contenders of a phase run side by side, at the same instants, each
// against its own copy of the dependency, on one schedule and one seed.
// It runs in real time: a full run takes about a minute.
//
// Usage:
//
//	outage [-outage 5s] [-callers 64] [-timeout 50ms] [-phases 5] [-seed 1] [-quick]
//
// Further flags set the warm-up and tail, the service time and pause, the
// breakers' open wait and riprap+health's probe intervals and timeout; see
// -help. The health probes reach the dependency too, and are reported in a
// column of their own: how often to probe trades those probes against how
// soon a recovery is noticed.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"time"
)

func main() {
	cfg := config{}
	flag.DurationVar(&cfg.outage, "outage", 5*time.Second, "length of the outage (phase 1)")
	flag.IntVar(&cfg.callers, "callers", 64, "concurrent callers per contender")
	flag.DurationVar(&cfg.timeout, "timeout", 50*time.Millisecond, "each call's deadline")
	flag.IntVar(&cfg.phases, "phases", 5, "phases, each moving the outage by 1/phases of a breaker cycle")
	flag.Uint64Var(&cfg.seed, "seed", 1, "seed of the callers' pauses")
	flag.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "healthy time before the outage")
	flag.DurationVar(&cfg.tail, "tail", 3*time.Second, "healthy time after the outage")
	flag.DurationVar(&cfg.service, "service", time.Millisecond, "a healthy call's duration")
	flag.DurationVar(&cfg.think, "think", 2*time.Millisecond, "mean pause between a caller's calls")
	flag.DurationVar(&cfg.openWait, "openwait", 500*time.Millisecond, "every breaker's open wait")
	flag.DurationVar(&cfg.probeEvery, "probe-every", 100*time.Millisecond, "riprap+health: probe interval")
	flag.DurationVar(&cfg.probeEveryUnhealthy, "probe-every-unhealthy", 50*time.Millisecond, "riprap+health: probe interval while unhealthy")
	flag.DurationVar(&cfg.probeTimeout, "probe-timeout", 25*time.Millisecond, "riprap+health: probe timeout")
	quick := flag.Bool("quick", false, "a short run: 1s outage, 0.5s warm-up, 1s tail, 2 phases")
	flag.Parse()
	if *quick {
		cfg.outage, cfg.warmup, cfg.tail, cfg.phases = time.Second, 500*time.Millisecond, time.Second, 2
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "outage:", err)
		os.Exit(2)
	}
	if _, err := run(os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "outage:", err)
		os.Exit(1)
	}
}

// run prints the settings, then each phase's table, then the summary, and
// returns every phase's results.
func run(w io.Writer, cfg config) ([][]result, error) {
	printSettings(w, cfg)
	var all [][]result
	for k := range cfg.phases {
		sched := scheduleFor(cfg, k)
		rs, err := runPhase(cfg, sched)
		if err != nil {
			return all, err
		}
		printPhase(w, cfg, sched, rs)
		all = append(all, rs)
	}
	printSummary(w, all)
	return all, nil
}

// runPhase runs every contender at once on sched and aggregates each.
func runPhase(cfg config, sched schedule) ([]result, error) {
	t0 := time.Now()
	type setup struct {
		dep *dependency
		rec *recorder
		g   guarded
	}
	setups := make([]setup, len(contenders))
	for i, c := range contenders {
		dep := newDependency(sched, t0, cfg.service)
		rec := &recorder{t0: t0}
		g, err := c.build(cfg, dep, attemptFunc(dep, cfg.timeout), rec)
		if err != nil {
			for _, s := range setups[:i] {
				s.g.stop()
			}
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		setups[i] = setup{dep: dep, rec: rec, g: g}
	}
	stats := make([][]callerStats, len(contenders))
	var wg sync.WaitGroup
	for i := range contenders {
		stats[i] = make([]callerStats, cfg.callers)
		for j := range cfg.callers {
			rng := rand.New(rand.NewPCG(cfg.seed, uint64(j)))
			wg.Go(func() { stats[i][j] = drive(t0, sched, cfg.think, rng, setups[i].g.call) })
		}
	}
	wg.Wait()
	rs := make([]result, len(contenders))
	for i, c := range contenders {
		setups[i].g.stop()
		rs[i] = aggregate(c, stats[i], setups[i].dep, setups[i].rec.snapshot())
	}
	return rs, nil
}

// attemptFunc is one call to dep under the call timeout: the work every
// contender guards, identically.
func attemptFunc(dep *dependency, timeout time.Duration) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return dep.Call(ctx)
	}
}

// drive is one caller: it calls until the schedule's stop, pausing a
// uniform [think/2, 3·think/2) between calls (and before the first, so
// callers do not start in step).
func drive(t0 time.Time, sched schedule, think time.Duration, rng *rand.Rand, call func() error) callerStats {
	var st callerStats
	pause := func() {
		if think > 0 {
			time.Sleep(think/2 + time.Duration(rng.Int64N(int64(think))))
		}
	}
	pause()
	for {
		start := time.Since(t0)
		if start >= sched.stop {
			return st
		}
		err := call()
		lat := time.Since(t0) - start
		st.calls++
		if err == nil {
			st.successes++
		}
		if sched.at(start) == during {
			st.outage = append(st.outage, lat)
		}
		pause()
	}
}
