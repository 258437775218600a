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
	cpu                 float64 // median cpu-ns/op
	hasCPU              bool
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
	cpu := map[key][]float64{}
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
		if s.hasCPU {
			cpu[k] = append(cpu[k], s.cpuNs)
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
		if c := cpu[k]; len(c) > 0 {
			r.cpu, r.hasCPU = median(c), true
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

// ratio returns ref's median over r's of the figure of, for the same
// scenario and mode, and whether ref has a row there.
func ratio(rows []row, r row, ref string, of func(row) float64) (float64, bool) {
	for _, o := range rows {
		if o.scenario == r.scenario && o.mode == r.mode && o.lib == ref && of(r) > 0 {
			return of(o) / of(r), true
		}
	}
	return 0, false
}

func wallNs(r row) float64 { return r.ns }
func cpuNs(r row) float64  { return r.cpu }

// render prints rows as a Markdown table, aligned for a terminal too. When
// the input has cpu-ns/op, its median and ratio get columns of their own.
func render(w io.Writer, rows []row, ref string) error {
	withCPU := slices.ContainsFunc(rows, func(r row) bool { return r.hasCPU })
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	head, rule := "| scenario\t| mode\t| lib\t| ns/op\t| B/op\t| allocs/op\t| "+ref+"/lib\t|", "|---\t|---\t|---\t|---:\t|---:\t|---:\t|---:\t|"
	if withCPU {
		head += " cpu-ns/op\t| " + ref + "/lib cpu\t|"
		rule += "---:\t|---:\t|"
	}
	fmt.Fprintln(tw, head)
	fmt.Fprintln(tw, rule)
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
		fmt.Fprintf(tw, "| %s\t| %s\t| %s\t| %s\t| %s\t| %s\t| %s\t|", scenario, mode, r.lib, formatNs(r.ns), bytes, allocs,
			ratioCell(rows, r, ref, wallNs))
		if withCPU {
			c := "?"
			if r.hasCPU {
				c = formatNs(r.cpu)
			}
			fmt.Fprintf(tw, " %s\t| %s\t|", c, ratioCell(rows, r, ref, cpuNs))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func ratioCell(rows []row, r row, ref string, of func(row) float64) string {
	if q, ok := ratio(rows, r, ref, of); ok {
		return formatRatio(q)
	}
	return "—"
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
