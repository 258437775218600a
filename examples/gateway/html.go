package main

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// The HTML report is XHTML-compatible (every element closed, attributes
// quoted, no named entities but XML's), so that an XML parser reads it and
// a test can check it; it links nothing and runs no script. The drawing
// primitives are in html_svg.go, the charts in html_charts.go.

var stateColors = map[string]string{
	"closed": "#2e7d32", "half_open": "#f9a825", "open": "#c62828", "held_open": "#7f0000", "forced_open": "#4a148c",
	"disabled": "#607d8b", "metrics_only": "#607d8b",
}

// writeHTMLFile writes the report as one self-contained HTML page.
func writeHTMLFile(path string, rep *report) error {
	var buf bytes.Buffer
	writeHTML(&buf, rep)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("-report: %w", err)
	}
	return nil
}

const pageStyle = `body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1000px; }
pre { background: #f6f6f6; padding: 1em; font-size: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
svg text { font-size: 12px; font-family: system-ui, sans-serif; }
svg text.tick { fill: #444; }
svg text.axis-title { fill: #444; font-style: italic; }
.legend span { display: inline-block; margin-right: 1.5em; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: middle; border: 1px solid #0003; }
.note { color: #555; font-size: 90%; }`

func writeHTML(w io.Writer, rep *report) {
	esc := html.EscapeString
	sc := rep.scenario
	fmt.Fprintf(w, `<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en">
<head>
<meta charset="utf-8"/>
<title>riprap drill: %s</title>
<style>
%s
</style>
</head>
<body>
<h1>riprap drill: %s</h1>
<p>%s. %s at %d payments/s, %d workers, seed %d.</p>
`, esc(sc.Name), pageStyle, esc(sc.Name), esc(sc.Description), sc.Duration, sc.Rate, rep.concurrency, rep.seed)
	for _, r := range rep.results {
		if r.protected {
			fmt.Fprintf(w, "<h2>Breakers, %s</h2>\n<p>One timeline per breaker: its state over time. A fault window is hatched white over the timeline of its dependency, and drawn in its own lane below. A state too brief to see at this scale (a half-open probe of a few milliseconds) is drawn %d px wide.</p>\n",
				esc(runHeading(r)), minSegment)
			writeStateLegend(w)
			writeTimelines(w, r)
		}
	}
	writeThroughput(w, rep)
	writeOutcomes(w, rep)
	for _, r := range rep.results {
		if r.protected {
			fmt.Fprintf(w, "<h2>Log entries waiting in the outbox, %s</h2>\n", esc(runHeading(r)))
			writeLegend(w, "outbox-"+r.label, []legendItem{{"outbox depth (entries)", "#6a1b9a"}})
			a := timeAxis{end: span(r)}
			writeLineChart(w, "outbox-"+r.label, sc, a, "entries", []chartSeries{{name: "outbox depth", color: "#6a1b9a", points: outboxDepth(r)}})
		}
	}
	var text bytes.Buffer
	rep.write(&text)
	fmt.Fprintf(w, "<h2>Report</h2>\n<pre>%s</pre>\n</body>\n</html>\n", esc(text.String()))
}

// runHeading names a run in a heading: "with riprap", "without
// protection".
func runHeading(r *runResult) string {
	return runTitle(summary{protected: r.protected, oneBank: r.oneBank, twoBanks: isTwoBankRun(r)})
}

func writeStateLegend(w io.Writer) {
	var items []legendItem
	for _, st := range []string{"closed", "half_open", "open", "held_open"} {
		label := strings.ReplaceAll(st, "_", "-")
		if st == "held_open" {
			label = "held open by a health check"
		}
		items = append(items, legendItem{label, stateColors[st]})
	}
	writeLegend(w, "states", items)
}

// span is the time axis of a run's charts: to the end of its last
// sample, the drain included.
func span(r *runResult) time.Duration {
	end := r.scenario.Duration
	if n := len(r.samples); n > 0 {
		end = max(end, r.samples[n-1].t)
	}
	return end
}

// breakerNames lists the breakers a run's timelines show: one per
// dependency the run used, then any other that changed state (a status
// breaker), in name order.
func breakerNames(r *runResult) []string {
	names := slices.Clone(r.scenario.services())
	if r.oneBank {
		names = slices.DeleteFunc(names, func(n string) bool { return n == secondBank })
	}
	var more []string
	for _, c := range r.changes {
		if !slices.Contains(names, c.name) && !slices.Contains(more, c.name) {
			more = append(more, c.name)
		}
	}
	slices.Sort(more)
	return append(names, more...)
}

// writeTimelines draws one row per breaker from its recorded transitions,
// its dependency's fault windows hatched over it, then the fault lanes
// and the time axis.
func writeTimelines(w io.Writer, r *runResult) {
	a := timeAxis{end: span(r)}
	names := breakerNames(r)
	id, pat := "timeline-", "timelines" // ids unique in the page: the primary-only run's get its label
	if r.oneBank {
		id, pat = "timeline-"+r.label+"-", "timelines-"+r.label
	}
	lanes := float64(laneHeight * len(faultyServices(r.scenario)))
	rows := float64(rowHeight * len(names))
	height := int(5+rows+6+lanes) + axisSpace
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`+"\n",
		svgWidth, height, svgWidth, height)
	writePatterns(w, pat)
	for i, name := range names {
		y := 5 + i*rowHeight
		fmt.Fprintf(w, `<g class="timeline" id="%s%s"><text x="%d" y="%d" text-anchor="end">%s</text>`+"\n",
			id, name, plotLeft-7, y+16, html.EscapeString(name))
		writeSegments(w, a, segmentsOf(r, name, a.end), y)
		for _, f := range r.scenario.windows(name) {
			fmt.Fprintf(w, `<rect class="fault-hatch" x="%.1f" y="%d" width="%.1f" height="%d" fill="url(#hatch-%s)" stroke="#000000" stroke-dasharray="3 2"><title>%s</title></rect>`+"\n",
				a.x(f.Start), y, max(a.x(f.End)-a.x(f.Start), 2), rowHeight-6, pat, html.EscapeString(describeFault(f)))
		}
		fmt.Fprint(w, "</g>\n")
	}
	bottom := 5 + rows + 6 + writeFaultLanes(w, pat, r.scenario, a, 5+rows+2)
	writeLoadEnd(w, a, r.scenario.Duration, 5, bottom)
	writeTimeAxis(w, a, bottom)
	fmt.Fprint(w, "</svg>\n")
}

// faultyServices lists the services with fault windows.
func faultyServices(sc Scenario) []string {
	var out []string
	for _, name := range sc.services() {
		if len(sc.windows(name)) > 0 {
			out = append(out, name)
		}
	}
	return out
}

// segment is a state a breaker was in from one time to another.
type segment struct {
	state    string
	from, to time.Duration
}

// segmentsOf turns a breaker's transitions into the states it went
// through, from closed at the start to end.
func segmentsOf(r *runResult, name string, end time.Duration) []segment {
	var out []segment
	state, from := "closed", time.Duration(0)
	for _, c := range r.changes {
		if c.name != name {
			continue
		}
		out = append(out, segment{state, from, c.t})
		state, from = c.to, c.t
	}
	return append(out, segment{state, from, end})
}

// writeSegments draws the states in time order, then again, on top and
// minSegment pixels wide, those too brief to see: the next state would
// otherwise cover a half-open of a few milliseconds.
func writeSegments(w io.Writer, a timeAxis, segs []segment, y int) {
	var brief []segment
	for _, s := range segs {
		if s.to < s.from {
			continue
		}
		if a.x(s.to)-a.x(s.from) < minSegment {
			brief = append(brief, s)
			continue
		}
		writeSegment(w, a, s, y, false)
	}
	for _, s := range brief {
		writeSegment(w, a, s, y, true)
	}
}

func writeSegment(w io.Writer, a timeAxis, s segment, y int, brief bool) {
	color, ok := stateColors[s.state]
	if !ok {
		color = "#000000"
	}
	x, width, extra := a.x(s.from), a.x(s.to)-a.x(s.from), ""
	if brief {
		width, extra = minSegment, ` stroke="#000000" stroke-width="1" data-brief="true"`
		x = min(x, float64(svgWidth-plotRight-minSegment))
	}
	fmt.Fprintf(w, `<rect class="seg" data-state="%s" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"%s><title>%s from %s to %s</title></rect>`+"\n",
		s.state, x, y, width, rowHeight-6, color, extra, s.state, round(s.from), round(s.to))
}
