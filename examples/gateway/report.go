package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/riprap-go/riprap/payments/gateway"
)

// report is the outcome of a drill: the same scenario without and with
// protection.
type report struct {
	scenario    Scenario
	seed        uint64
	concurrency int
	store       string    // where the protected run kept its ledger
	runs        []summary // unprotected first, when it ran
	results     []*runResult
	// checks compare the two runs (the tail); none without the baseline.
	checks []invariant
}

func newReport(s Scenario, seed uint64, concurrency int, results ...*runResult) *report {
	rep := &report{scenario: s, seed: seed, concurrency: concurrency, results: results}
	for _, r := range results {
		rep.runs = append(rep.runs, summarize(r))
	}
	if len(rep.runs) >= 2 && !rep.runs[0].protected {
		// The tail compares like with like: the unprotected baseline has
		// the primary bank only, so in a two-bank scenario the protected
		// run it is held against is the one with the primary bank only.
		// The two-bank run turns refusals into successes at the second
		// bank, which take longer than a refusal; that is a second bank's
		// doing, not protection's, and the failover section reports it.
		if one, ok := rep.oneBankRun(); ok {
			inv := tailCheck(tailWindows(s, rep.runs[0], one))
			if !inv.na {
				inv.detail = "against riprap with the primary bank only, the baseline's banks: " + inv.detail
			}
			rep.checks = append(rep.checks, inv)
		} else if prot, ok := rep.protected(); ok {
			rep.checks = append(rep.checks, tailCheck(tailWindows(s, rep.runs[0], prot)))
		}
	}
	return rep
}

// protected returns the summary of the protected run (with every bank of
// the scenario).
func (rep *report) protected() (summary, bool) {
	for _, s := range rep.runs {
		if s.protected && !s.oneBank {
			return s, true
		}
	}
	return summary{}, false
}

// oneBankRun returns the summary of a two-bank scenario's run with the
// primary bank only.
func (rep *report) oneBankRun() (summary, bool) {
	for _, s := range rep.runs {
		if s.oneBank {
			return s, true
		}
	}
	return summary{}, false
}

// passed reports whether the protected run kept every invariant and the
// comparison passed every check.
func (rep *report) passed() bool {
	s, ok := rep.protected()
	if !ok || !s.passed {
		return false
	}
	for _, c := range rep.checks {
		if !c.ok {
			return false
		}
	}
	return true
}

// print writes the report through the printer: the text of write, or one
// JSON line.
func (rep *report) print(pr *printer) {
	if pr.json {
		pr.line("", rep.jsonForm())
		return
	}
	rep.write(pr)
}

// write prints the side-by-side comparison, then the details of each run.
func (rep *report) write(w io.Writer) {
	sc := rep.scenario
	fmt.Fprintf(w, "\n=== riprap drill %q: %s\n", sc.Name, sc.Description)
	fmt.Fprintf(w, "    %s at %d payments/s, %d workers, seed %d; the gateway's store: %s\n\n",
		sc.Duration, sc.Rate, rep.concurrency, rep.seed, storeLabel(rep.store))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	row := func(label string, f func(s summary) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, s := range rep.runs {
			fmt.Fprintf(tw, " %s\t", f(s))
		}
		fmt.Fprintln(tw)
	}
	row("", func(s summary) string { return runTitle(s) })
	row("payments answered per second", func(s summary) string { return fmt.Sprintf("%.0f", s.perSecond) })
	row("  of which succeeded", func(s summary) string { return fmt.Sprintf("%.0f", s.succeededPerSecond) })
	for _, st := range allStates {
		row(stateLabel(st), func(s summary) string { return count(s.final[st], s.payments) })
	}
	row("settled by reconciliation", func(s summary) string { return dash(s.protected, fmt.Sprint(s.reconciled)) })
	row("latency p50 / p99, all", func(s summary) string { return p50p99(s.all) })
	for i := range sc.Faults {
		f := sc.Faults[i]
		fmt.Fprintf(tw, "%s\t", describeFault(f))
		for range rep.runs {
			fmt.Fprint(tw, " \t")
		}
		fmt.Fprintln(tw)
		row("  latency p50 / p95 / p99", func(s summary) string { return pcts(s.faults[i].latency) })
		row("  most payments in flight at once", func(s summary) string { return fmt.Sprint(s.faults[i].inFlight) })
		row("  calls sent to "+f.Service+" (health probes)", func(s summary) string {
			c := s.faults[i].calls
			return fmt.Sprintf("%d (%d)", c.Calls, c.Probes)
		})
		row("  breaker closed after the fault", func(s summary) string { return dash(s.protected, recoveryText(s.faults[i].recovery)) })
	}
	row("outbox peak / left after drain", func(s summary) string {
		return dash(s.protected, fmt.Sprintf("%d / %d (%s)", s.outboxMax, s.outboxEnd, round(s.drain)))
	})
	for i, name := range invariantNames(rep) {
		row(name, func(s summary) string { return checkText(s.invariants[i]) })
	}
	_ = tw.Flush()
	for _, s := range rep.runs {
		writeDetails(w, s)
	}
	writeFailover(w, rep)
	if len(rep.checks) > 0 {
		fmt.Fprintf(w, "\nwith riprap against without protection:\n")
		for _, c := range rep.checks {
			fmt.Fprintf(w, "  %s  %s\n        %s\n", checkText(c), c.name, c.detail)
		}
	}
	fmt.Fprintf(w, "\n%s\n", rep.verdict())
}

// verdict is the report's last line.
func (rep *report) verdict() string {
	if rep.passed() {
		return "PASS: the protected run kept every invariant and passed every check"
	}
	return "FAIL: the protected run broke an invariant or failed a check (see above)"
}

// writeDetails prints latency by final state and each invariant's figures.
func writeDetails(w io.Writer, s summary) {
	fmt.Fprintf(w, "\n%s: latency by final state (due → answered, queueing included)\n", runTitle(s))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  state\tpayments\tp50\tp95\tp99\t")
	for _, st := range allStates {
		p := s.byState[st]
		if p.n == 0 {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t\n", st, p.n, round(p.p50), round(p.p95), round(p.p99))
	}
	_ = tw.Flush()
	for _, line := range s.services {
		fmt.Fprintf(w, "  %s\n", line)
	}
	for _, inv := range s.invariants {
		fmt.Fprintf(w, "  %s  %s (%s)\n", checkText(inv), inv.name, inv.detail)
	}
}

func invariantNames(rep *report) []string {
	if len(rep.runs) == 0 {
		return nil
	}
	var names []string
	for _, inv := range rep.runs[0].invariants {
		names = append(names, strings.SplitN(inv.name, ":", 2)[0])
	}
	return names
}

func runTitle(s summary) string {
	switch {
	case s.oneBank:
		return "with riprap, primary bank only"
	case s.twoBanks:
		return "with riprap, two banks"
	case s.protected:
		return "with riprap"
	}
	return "without protection"
}

func stateLabel(st gateway.State) string {
	switch st {
	case gateway.Rejected:
		return "rejected (not attempted)"
	case gateway.Pending:
		return "still pending after drain"
	case Unknown:
		return "outcome unknown, never resolved"
	}
	return string(st)
}

func count(n, total int) string {
	if total == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%.1f%%)", n, 100*float64(n)/float64(total))
}

func pcts(p percentiles) string {
	if p.n == 0 {
		return "–"
	}
	return round(p.p50) + " / " + round(p.p95) + " / " + round(p.p99)
}

func p50p99(p percentiles) string {
	if p.n == 0 {
		return "–"
	}
	return round(p.p50) + " / " + round(p.p99)
}

func recoveryText(r recovery) string {
	switch {
	case !r.opened:
		return "never opened"
	case !r.closed:
		return "did not close"
	}
	return round(r.after)
}

func dash(applies bool, s string) string {
	if !applies {
		return "–"
	}
	return s
}

// checkText is PASS or FAIL, or "–" for a check that does not apply.
func checkText(inv invariant) string {
	if inv.na {
		return "–"
	}
	return passFail(inv.ok)
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func secs(d time.Duration) string { return fmt.Sprintf("%gs", d.Seconds()) }

// round shortens a duration for a table: 3 significant figures at most.
func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}
