package main

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"os"
	"strings"
	"time"

	"github.com/riprap-go/riprap/payments/gateway"
)

// The HTML report is XHTML-compatible (every element closed, attributes
// quoted, no named entities but XML's), so that an XML parser reads it and
// a test can check it; it links nothing and runs no script.

const (
	svgWidth   = 960
	plotLeft   = 70
	plotRight  = 20
	rowHeight  = 26
	chartTall  = 180
	throughBin = 500 * time.Millisecond
)

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

func writeHTML(w io.Writer, rep *report) {
	esc := html.EscapeString
	sc := rep.scenario
	fmt.Fprintf(w, `<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en">
<head>
<meta charset="utf-8"/>
<title>riprap drill: %s</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1000px; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 12px; }
svg text { font-size: 12px; font-family: system-ui, sans-serif; }
.legend span { display: inline-block; margin-right: 1.5em; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: middle; }
</style>
</head>
<body>
<h1>riprap drill: %s</h1>
<p>%s. %s at %d payments/s, %d workers, seed %d.</p>
`, esc(sc.Name), esc(sc.Name), esc(sc.Description), sc.Duration, sc.Rate, rep.concurrency, rep.seed)
	for _, r := range rep.results {
		if r.protected {
			fmt.Fprint(w, "<h2>Breakers, with riprap</h2>\n<p>One timeline per dependency: the breaker's state over time; the hatched band is the fault window.</p>\n")
			writeLegend(w)
			writeTimelines(w, r)
		}
	}
	fmt.Fprint(w, "<h2>Payments succeeded per second</h2>\n")
	var series []chartSeries
	colors := map[bool]string{true: "#1565c0", false: "#9e9e9e"}
	for _, r := range rep.results {
		series = append(series, chartSeries{name: runTitle(summary{protected: r.protected}), color: colors[r.protected],
			points: throughput(r, gateway.Succeeded)})
	}
	writeChart(w, "throughput", sc, series)
	for _, r := range rep.results {
		if r.protected {
			fmt.Fprint(w, "<h2>Log entries waiting in the outbox, with riprap</h2>\n")
			writeChart(w, "outbox", sc, []chartSeries{{name: "outbox depth", color: "#6a1b9a", points: outboxDepth(r)}})
		}
	}
	var text bytes.Buffer
	rep.write(&text)
	fmt.Fprintf(w, "<h2>Report</h2>\n<pre>%s</pre>\n</body>\n</html>\n", esc(text.String()))
}

func writeLegend(w io.Writer) {
	fmt.Fprint(w, `<p class="legend">`)
	for _, st := range []string{"closed", "half_open", "open", "held_open"} {
		label := strings.ReplaceAll(st, "_", "-")
		if st == "held_open" {
			label = "held open by a health check"
		}
		fmt.Fprintf(w, `<span><span class="swatch" style="background:%s"></span>%s</span>`, stateColors[st], label)
	}
	fmt.Fprint(w, "</p>\n")
}

// span is the time axis of a run's charts.
func span(r *runResult) time.Duration {
	end := r.scenario.Duration
	if n := len(r.samples); n > 0 {
		end = max(end, r.samples[n-1].t)
	}
	return end
}

func xOf(t, end time.Duration) float64 {
	return plotLeft + float64(svgWidth-plotLeft-plotRight)*float64(t)/float64(end)
}

// writeTimelines draws one row per dependency from its breaker's recorded
// transitions.
func writeTimelines(w io.Writer, r *runResult) {
	end := span(r)
	height := rowHeight*len(services) + 30
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`+"\n",
		svgWidth, height, svgWidth, height)
	writePattern(w, "timelines")
	for i, name := range services {
		y := 5 + i*rowHeight
		fmt.Fprintf(w, `<g class="timeline" id="timeline-%s"><text x="0" y="%d">%s</text>`+"\n", name, y+17, name)
		state, from := "closed", time.Duration(0)
		for _, c := range r.changes {
			if c.name != name {
				continue
			}
			writeSegment(w, state, from, c.t, end, y)
			state, from = c.to, c.t
		}
		writeSegment(w, state, from, end, end, y)
		for _, f := range r.scenario.windows(name) {
			fmt.Fprintf(w, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="url(#hatch-timelines)"><title>%s %s</title></rect>`+"\n",
				xOf(f.Start, end), y, xOf(f.End, end)-xOf(f.Start, end), rowHeight-6, name, f.Kind)
		}
		fmt.Fprint(w, "</g>\n")
	}
	writeAxis(w, end, 5+len(services)*rowHeight)
	fmt.Fprint(w, "</svg>\n")
}

func writeSegment(w io.Writer, state string, from, to, end time.Duration, y int) {
	if to <= from {
		return
	}
	color, ok := stateColors[state]
	if !ok {
		color = "#000000"
	}
	width := max(xOf(to, end)-xOf(from, end), 2) // a brief half-open stays visible
	fmt.Fprintf(w, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s from %s to %s</title></rect>`+"\n",
		xOf(from, end), y, width, rowHeight-6, color, state, round(from), round(to))
}

// writePattern defines the hatching of fault windows, under an id unique
// in the page.
func writePattern(w io.Writer, id string) {
	fmt.Fprintf(w, `<defs><pattern id="hatch-%s" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">`+
		`<rect width="3" height="6" fill="#000000" fill-opacity="0.25"/></pattern></defs>`+"\n", id)
}

// writeAxis draws second ticks under a chart whose plot ends at y.
func writeAxis(w io.Writer, end time.Duration, y int) {
	step := time.Second
	for end/step > 15 {
		step *= 2
	}
	fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#555555"/>`+"\n", plotLeft, y, svgWidth-plotRight, y)
	for t := time.Duration(0); t <= end; t += step {
		x := xOf(t, end)
		fmt.Fprintf(w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#555555"/><text x="%.1f" y="%d" text-anchor="middle">%gs</text>`+"\n",
			x, y, x, y+4, x, y+17, t.Seconds())
	}
}

// chartSeries is one line of a chart: (time, value) points.
type chartSeries struct {
	name   string
	color  string
	points [][2]float64 // seconds, value
}

func writeChart(w io.Writer, id string, sc Scenario, series []chartSeries) {
	var end time.Duration = sc.Duration
	peak := 1.0
	for _, s := range series {
		for _, p := range s.points {
			end = max(end, time.Duration(p[0]*float64(time.Second)))
			peak = max(peak, p[1])
		}
	}
	height := chartTall + 30
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-%s" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`+"\n",
		id, svgWidth, height, svgWidth, height)
	writePattern(w, id)
	for _, f := range sc.Faults {
		fmt.Fprintf(w, `<rect x="%.1f" y="0" width="%.1f" height="%d" fill="url(#hatch-%s)" fill-opacity="0.4"><title>%s %s</title></rect>`+"\n",
			xOf(f.Start, end), xOf(f.End, end)-xOf(f.Start, end), chartTall, id, f.Service, f.Kind)
		fmt.Fprintf(w, `<text x="%.1f" y="12">%s %s</text>`+"\n", xOf(f.Start, end)+3, f.Service, f.Kind)
	}
	fmt.Fprintf(w, `<text x="0" y="12">%.0f</text><text x="0" y="%d">0</text>`+"\n", peak, chartTall)
	for i, s := range series {
		var pts strings.Builder
		for _, p := range s.points {
			y := float64(chartTall) - float64(chartTall-20)*p[1]/peak
			fmt.Fprintf(&pts, "%.1f,%.1f ", xOf(time.Duration(p[0]*float64(time.Second)), end), y)
		}
		fmt.Fprintf(w, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"><title>%s</title></polyline>`+"\n",
			s.color, strings.TrimSpace(pts.String()), html.EscapeString(s.name))
		fmt.Fprintf(w, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", svgWidth-260, 30+16*i, s.color, html.EscapeString(s.name))
	}
	writeAxis(w, end, chartTall)
	fmt.Fprint(w, "</svg>\n")
}

// throughput bins a run's samples into payments answered in state st per
// second.
func throughput(r *runResult, st gateway.State) [][2]float64 {
	var out [][2]float64
	i := stateIndex(st)
	var prev sample
	for _, s := range r.samples {
		if s.t-prev.t < throughBin {
			continue
		}
		rate := float64(s.answered[i]-prev.answered[i]) / (s.t - prev.t).Seconds()
		out = append(out, [2]float64{s.t.Seconds(), rate})
		prev = s
	}
	return out
}

func outboxDepth(r *runResult) [][2]float64 {
	out := make([][2]float64, 0, len(r.samples))
	for _, s := range r.samples {
		out = append(out, [2]float64{s.t.Seconds(), float64(s.outbox)})
	}
	return out
}
