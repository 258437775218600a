package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

func printSettings(w io.Writer, cfg config) {
	fmt.Fprintf(w, "callers %d per contender, call timeout %v, healthy call %v, pause %v±%v, seed %d\n",
		cfg.callers, cfg.timeout, cfg.service, cfg.think, cfg.think/2, cfg.seed)
	fmt.Fprintf(w, "breakers: open after %d consecutive failures, open wait %v, %d half-open probes, close after %d successes\n",
		tripAfter, cfg.openWait, halfOpenProbes, halfOpenProbes)
	h := healthConfig(cfg)
	fmt.Fprintf(w, "riprap+health: probe every %v (%v while unhealthy), probe timeout %v, unhealthy after %d failures, healthy after %d success\n\n",
		h.Interval, h.UnhealthyInterval, h.Timeout, h.FailuresToUnhealthy, h.SuccessesToHealthy)
}

func printPhase(w io.Writer, cfg config, s schedule, rs []result) {
	fmt.Fprintf(w, "phase %d/%d: outage %.3fs–%.3fs (%.3fs), run %.3fs\n",
		s.phase+1, cfg.phases, s.start.Seconds(), s.end.Seconds(), (s.end - s.start).Seconds(), s.stop.Seconds())
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| contender\t| calls reaching dep in outage\t| health probes in outage\t| caller p99 in outage\t| recovery → closed\t| successful calls\t| vs none\t|")
	fmt.Fprintln(tw, "|---\t|---:\t|---:\t|---:\t|---:\t|---:\t|---:\t|")
	none := rs[0]
	for _, r := range rs {
		fmt.Fprintf(tw, "| %s\t| %d\t| %s\t| %s\t| %s\t| %d\t| %s\t|\n", r.contender, r.reached,
			probesCell(r), fmtDur(r.p99), recoveryCell(r), r.successes, lossCell(r, none))
	}
	tw.Flush()
	for _, r := range rs {
		if r.health {
			verdict(w, r, none)
		}
	}
	fmt.Fprintln(w)
}

func verdict(w io.Writer, r, none result) {
	g := issueGoal
	goal := fmt.Sprintf("goal for %s (≤ %d calls, ≤ %v to close, ≥ none − %.0f%% successes)",
		r.contender, g.maxReached, g.maxRecovery, g.maxLoss*100)
	if m := g.misses(r, none); len(m) > 0 {
		fmt.Fprintf(w, "%s: MISSED: %s\n", goal, strings.Join(m, "; "))
		return
	}
	fmt.Fprintf(w, "%s: met\n", goal)
}

// printSummary gives each contender's range over the phases.
func printSummary(w io.Writer, all [][]result) {
	if len(all) == 0 {
		return
	}
	fmt.Fprintf(w, "summary over %d phases (min–max)\n", len(all))
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| contender\t| calls reaching dep in outage\t| health probes in outage\t| caller p99 in outage\t| recovery → closed\t| vs none\t|")
	fmt.Fprintln(tw, "|---\t|---:\t|---:\t|---:\t|---:\t|---:\t|")
	for i := range all[0] {
		s := summarise(all, i)
		fmt.Fprintf(tw, "| %s\t| %s\t| %s\t| %s\t| %s\t| %s\t|\n", s.contender, s.reached, s.probes, s.p99, s.recovery, s.loss)
	}
	tw.Flush()
}

// span is a contender's figures over all phases, as table cells.
type span struct{ contender, reached, probes, p99, recovery, loss string }

func summarise(all [][]result, i int) span {
	first := all[0][i]
	s := span{contender: first.contender}
	var reached, probes []int64
	var p99, rec []time.Duration
	var loss []float64
	notClosed := 0
	for _, rs := range all {
		r := rs[i]
		reached, probes, p99 = append(reached, r.reached), append(probes, r.probes), append(p99, r.p99)
		if r.recovery.closed {
			rec = append(rec, r.recovery.delay)
		} else {
			notClosed++
		}
		loss = append(loss, relative(r, rs[0]))
	}
	s.reached = rangeOf(reached, func(v int64) string { return fmt.Sprint(v) })
	s.probes = "—"
	if first.health {
		s.probes = rangeOf(probes, func(v int64) string { return fmt.Sprint(v) })
	}
	s.p99 = rangeOf(p99, fmtDur)
	s.recovery = "—"
	if first.breaker {
		s.recovery = rangeOf(rec, fmtDur)
		if notClosed > 0 {
			s.recovery += fmt.Sprintf(" (%d phases not closed)", notClosed)
		}
	}
	s.loss = rangeOf(loss, func(v float64) string { return fmt.Sprintf("%+.1f%%", v*100) })
	if i == 0 {
		s.loss = "—"
	}
	return s
}

func rangeOf[T int64 | time.Duration | float64](xs []T, f func(T) string) string {
	if len(xs) == 0 {
		return "—"
	}
	lo, hi := xs[0], xs[0]
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	if lo == hi {
		return f(lo)
	}
	return f(lo) + "–" + f(hi)
}

// relative is r's successes over none's, minus one.
func relative(r, none result) float64 {
	if none.successes == 0 {
		return 0
	}
	return float64(r.successes)/float64(none.successes) - 1
}

func probesCell(r result) string {
	if !r.health {
		return "—"
	}
	return fmt.Sprint(r.probes)
}

func recoveryCell(r result) string {
	switch {
	case !r.breaker:
		return "—"
	case !r.recovery.opened && r.recovery.closed && r.recovery.delay == 0:
		return "never opened"
	case !r.recovery.closed:
		return "not closed"
	}
	return fmtDur(r.recovery.delay)
}

func lossCell(r, none result) string {
	if r.contender == none.contender {
		return "—"
	}
	return fmt.Sprintf("%+.1f%%", relative(r, none)*100)
}

// fmtDur prints µs below a millisecond and ms above, three digits or so.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
