package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
)

// row is the summary of one scenario, mode and library.
type row struct {
	scenario, mode, lib string
	ns, bytes, allocs   float64 // medians
	hasMem              bool
	runs                int
}

// summarise groups samples by scenario, mode and library, keeping the
// order of first appearance, and takes the medians. When the input holds
// runs at several GOMAXPROCS (go test -cpu 1,2,4), each mode is split by
// it and named like "parallel-4".
func summarise(samples []sample) []row {
	procs := map[int]bool{}
	for _, s := range samples {
		procs[s.procs] = true
	}
	if len(procs) > 1 {
		samples = slices.Clone(samples)
		for i := range samples {
			samples[i].mode += "-" + strconv.Itoa(samples[i].procs)
		}
	}
	type key struct{ scenario, mode, lib string }
	var order []key
	ns := map[key][]float64{}
	bytes := map[key][]float64{}
	allocs := map[key][]float64{}
	for _, s := range samples {
		k := key{s.scenario, s.mode, s.lib}
		if _, seen := ns[k]; !seen {
			order = append(order, k)
		}
		ns[k] = append(ns[k], s.nsPerOp)
		if s.hasMem {
			bytes[k] = append(bytes[k], s.bytes)
			allocs[k] = append(allocs[k], s.allocs)
		}
	}
	// Scenario by scenario, each scenario's modes in order of appearance.
	rank := map[string]int{}
	for i, k := range order {
		if _, ok := rank[k.scenario]; !ok {
			rank[k.scenario] = i * len(order)
		}
		if _, ok := rank[k.scenario+"/"+k.mode]; !ok {
			rank[k.scenario+"/"+k.mode] = rank[k.scenario] + i
		}
	}
	slices.SortStableFunc(order, func(a, b key) int {
		return rank[a.scenario+"/"+a.mode] - rank[b.scenario+"/"+b.mode]
	})
	rows := make([]row, 0, len(order))
	for _, k := range order {
		r := row{scenario: k.scenario, mode: k.mode, lib: k.lib, ns: median(ns[k]), runs: len(ns[k])}
		if a := allocs[k]; len(a) > 0 {
			r.bytes, r.allocs, r.hasMem = median(bytes[k]), median(a), true
		}
		rows = append(rows, r)
	}
	return rows
}

// median returns the middle value of xs (the mean of the two middle ones
// for an even count); xs must not be empty.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratio returns ref's median ns/op over r's for the same scenario and
// mode, and whether ref has a row there.
func ratio(rows []row, r row, ref string) (float64, bool) {
	for _, o := range rows {
		if o.scenario == r.scenario && o.mode == r.mode && o.lib == ref && r.ns > 0 {
			return o.ns / r.ns, true
		}
	}
	return 0, false
}

// render prints rows as a Markdown table, aligned for a terminal too.
func render(w io.Writer, rows []row, ref string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "| scenario\t| mode\t| lib\t| ns/op\t| B/op\t| allocs/op\t| %s/lib\t|\n", ref)
	fmt.Fprintf(tw, "|---\t|---\t|---\t|---:\t|---:\t|---:\t|---:\t|\n")
	prev := ""
	for _, r := range rows {
		scenario, mode := r.scenario, r.mode
		if scenario+"/"+mode == prev {
			scenario, mode = "", ""
		}
		prev = r.scenario + "/" + r.mode
		bytes, allocs := "?", "?"
		if r.hasMem {
			bytes = strconv.FormatFloat(r.bytes, 'f', -1, 64)
			allocs = strconv.FormatFloat(r.allocs, 'f', -1, 64)
		}
		rat := "—"
		if q, ok := ratio(rows, r, ref); ok {
			rat = formatRatio(q)
		}
		fmt.Fprintf(tw, "| %s\t| %s\t| %s\t| %s\t| %s\t| %s\t| %s\t|\n", scenario, mode, r.lib, formatNs(r.ns), bytes, allocs, rat)
	}
	return tw.Flush()
}

// formatNs keeps three significant digits, as benchstat does.
func formatNs(ns float64) string {
	switch {
	case ns >= 100:
		return strconv.FormatFloat(ns, 'f', 0, 64)
	case ns >= 10:
		return strconv.FormatFloat(ns, 'f', 1, 64)
	}
	return strconv.FormatFloat(ns, 'f', 2, 64)
}

// formatRatio keeps two decimals, or two significant digits below 0.1 so
// that a ratio of 0.004 does not print as 0.00.
func formatRatio(q float64) string {
	if q < 0.1 {
		return strconv.FormatFloat(q, 'g', 2, 64)
	}
	return strconv.FormatFloat(q, 'f', 2, 64)
}
