package main

import (
	"fmt"
	"strings"
	"time"
)

// The tail check's margin: in every fault window, the protected run's p99
// may exceed the unprotected run's by at most tailRatio-1 (5%) plus
// tailSlack. The slack covers the few milliseconds the protected run
// spends writing each payment to its database, which matter only where
// both tails are a few milliseconds long; a tail that protection makes
// worse by a real amount — a first wave of payments waiting out a retry
// against a dead bank — is hundreds of milliseconds over.
const (
	tailRatio = 1.05
	tailSlack = 10 * time.Millisecond
)

// tailWindow is one fault window of the tail check.
type tailWindow struct {
	label       string
	plain, prot percentiles
}

// tailWindows pairs the latency percentiles of the two runs window by
// window. A scenario without fault windows has none: outside faults the
// protected run pays for what the unprotected one does not do (recording
// every payment durably), and the check is about faults.
func tailWindows(sc Scenario, plain, prot summary) []tailWindow {
	var out []tailWindow
	for i, f := range sc.Faults {
		if i < len(plain.faults) && i < len(prot.faults) {
			out = append(out, tailWindow{label: describeFault(f), plain: plain.faults[i].latency, prot: prot.faults[i].latency})
		}
	}
	return out
}

// tailLimit is the highest protected p99 the check accepts against an
// unprotected p99 of plain.
func tailLimit(plain time.Duration) time.Duration {
	return time.Duration(float64(plain)*tailRatio) + tailSlack
}

// tailCheck is issue 19's goal as a line of the report: protection never
// makes the tail worse than no protection, in any fault window.
func tailCheck(ws []tailWindow) invariant {
	inv := invariant{name: fmt.Sprintf("tail: protected p99 no worse than unprotected in every fault window (at most +%.0f%% +%s)",
		(tailRatio-1)*100, tailSlack), ok: true}
	if len(ws) == 0 {
		inv.na, inv.detail = true, "no fault windows"
		return inv
	}
	var parts []string
	for _, w := range ws {
		if w.plain.n == 0 || w.prot.n == 0 {
			continue // no payment due in the window: nothing to compare
		}
		verdict := "ok"
		if w.prot.p99 > tailLimit(w.plain.p99) {
			inv.ok, verdict = false, "WORSE"
		}
		parts = append(parts, fmt.Sprintf("%s: %s vs %s %s", w.label, round(w.prot.p99), round(w.plain.p99), verdict))
	}
	inv.detail = strings.Join(parts, "; ")
	return inv
}
