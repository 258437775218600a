package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"time"
)

// Geometry of the report's SVG charts, in pixels. Labels sit in the left
// margin, lanes and legends outside the plot: nothing is written over a
// line or a timeline.
const (
	svgWidth   = 960
	plotLeft   = 110
	plotRight  = 20
	rowHeight  = 26
	laneHeight = 14
	chartTall  = 200
	axisSpace  = 34 // under a plot: ticks, their labels and the axis title
	minSegment = 6  // a state shorter than this is still drawn this wide
)

// serviceColors tell the fault windows of each dependency apart, in lanes
// and in the light band each casts over a chart.
var serviceColors = map[string]string{"bank": "#e65100", "bank2": "#ad1457", "fx": "#00838f", "log": "#6a1b9a"}

func serviceColor(name string) string {
	if c, ok := serviceColors[name]; ok {
		return c
	}
	return "#424242"
}

// timeAxis maps a run's time to x: [0, end] onto the plot's width.
type timeAxis struct{ end time.Duration }

func (a timeAxis) x(t time.Duration) float64 {
	if a.end <= 0 {
		return plotLeft
	}
	t = min(max(t, 0), a.end)
	return plotLeft + float64(svgWidth-plotLeft-plotRight)*float64(t)/float64(a.end)
}

// valueAxis maps a value to y: [0, top] onto [bottom, bottom-height].
type valueAxis struct {
	top, step      float64
	bottom, height float64
	unit           string
}

// newValueAxis picks a round step (1, 2 or 5 times a power of ten) that
// gives about five ticks up to peak, and a top that is a whole number of
// steps.
func newValueAxis(peak float64, bottom, height float64, unit string) valueAxis {
	peak = max(peak, 1)
	raw := peak / 5
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	step := pow * 10
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= raw {
			step = m * pow
			break
		}
	}
	return valueAxis{top: math.Ceil(peak/step) * step, step: step, bottom: bottom, height: height, unit: unit}
}

func (a valueAxis) y(v float64) float64 {
	return a.bottom - a.height*min(max(v, 0), a.top)/a.top
}

// write draws the y axis with a gridline and a label per tick, and the
// unit as the axis title.
func (a valueAxis) write(w io.Writer) {
	fmt.Fprintf(w, `<g class="y-axis" data-unit="%s">`, html.EscapeString(a.unit))
	for v := 0.0; v <= a.top+a.step/2; v += a.step {
		y := a.y(v)
		fmt.Fprintf(w, `<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#dddddd"/>`,
			plotLeft, y, svgWidth-plotRight, y)
		fmt.Fprintf(w, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#555555"/>`, plotLeft-4, y, plotLeft, y)
		fmt.Fprintf(w, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, plotLeft-7, y+4, formatTick(v))
	}
	fmt.Fprintf(w, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#555555"/>`, plotLeft, a.bottom, plotLeft, a.bottom-a.height)
	mid := a.bottom - a.height/2
	fmt.Fprintf(w, `<text class="axis-title" x="14" y="%.1f" text-anchor="middle" transform="rotate(-90 14 %.1f)">%s</text>`,
		mid, mid, html.EscapeString(a.unit))
	fmt.Fprint(w, "</g>\n")
}

func formatTick(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%g", v)
}

// writeTimeAxis draws the time axis at y: a tick and a label per round
// number of seconds, and its title.
func writeTimeAxis(w io.Writer, a timeAxis, y float64) {
	step := 500 * time.Millisecond
	for a.end/step > 15 {
		step *= 2
	}
	fmt.Fprintf(w, `<g class="x-axis"><line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#555555"/>`, plotLeft, y, svgWidth-plotRight, y)
	for t := time.Duration(0); t <= a.end; t += step {
		x := a.x(t)
		fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#555555"/><text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%gs</text>`,
			x, y, x, y+4, x, y+16, t.Seconds())
	}
	fmt.Fprintf(w, `<text class="axis-title" x="%d" y="%.1f" text-anchor="end">time since the start of the run</text></g>`+"\n",
		svgWidth-plotRight, y+31)
}

// writeLoadEnd marks the end of the workload on a plot from top to
// bottom: past it no payment is due, and what follows is the drain.
func writeLoadEnd(w io.Writer, a timeAxis, at time.Duration, top, bottom float64) {
	if at >= a.end {
		return
	}
	x := a.x(at)
	tx, anchor := x+4, "start"
	if x > svgWidth-plotRight-80 { // no room on the right: label on the left
		tx, anchor = x-4, "end"
	}
	fmt.Fprintf(w, `<g class="load-end"><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#000000" stroke-dasharray="4 3"/>`+
		`<text x="%.1f" y="%.1f" text-anchor="%s">load ended</text></g>`+"\n", x, top, x, bottom, tx, top+12, anchor)
}

// writePatterns defines the hatchings, under ids unique in the page:
// white stripes that show on every state colour (dark red included) for
// a fault window laid over a timeline, and stripes of each service's
// colour for its lane.
func writePatterns(w io.Writer, id string) {
	fmt.Fprint(w, "<defs>")
	fmt.Fprintf(w, `<pattern id="hatch-%s" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">`+
		`<rect width="3" height="8" fill="#ffffff" fill-opacity="0.7"/></pattern>`, id)
	for _, name := range []string{"bank", "bank2", "fx", "log"} {
		fmt.Fprintf(w, `<pattern id="lane-%s-%s" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">`+
			`<rect width="6" height="6" fill="%s" fill-opacity="0.35"/><rect width="3" height="6" fill="%s"/></pattern>`,
			id, name, serviceColor(name), serviceColor(name))
	}
	fmt.Fprint(w, "</defs>\n")
}

// writeFaultLanes draws one lane per service with fault windows, from y
// down: its name in the margin and each window hatched in its colour,
// labelled with its kind where it fits. It returns the height used.
func writeFaultLanes(w io.Writer, id string, sc Scenario, a timeAxis, y float64) float64 {
	used := 0.0
	for _, name := range sc.services() {
		ws := sc.windows(name)
		if len(ws) == 0 {
			continue
		}
		ly := y + used
		fmt.Fprintf(w, `<g class="fault-lane" data-service="%s"><text x="%d" y="%.1f" text-anchor="end">%s faults</text>`,
			name, plotLeft-7, ly+laneHeight-3, name)
		for _, f := range ws {
			x0, x1 := a.x(f.Start), a.x(f.End)
			fmt.Fprintf(w, `<rect class="fault" data-service="%s" data-kind="%s" x="%.1f" y="%.1f" width="%.1f" height="%d" fill="url(#lane-%s-%s)" stroke="%s"><title>%s</title></rect>`,
				name, f.Kind, x0, ly, max(x1-x0, 2), laneHeight-2, id, name, serviceColor(name), html.EscapeString(describeFault(f)))
			if x1-x0 > float64(8*len(f.Kind)) {
				fmt.Fprintf(w, `<text class="fault-label" x="%.1f" y="%.1f" text-anchor="middle" fill="#ffffff" stroke="%s" stroke-width="3" paint-order="stroke">%s</text>`,
					(x0+x1)/2, ly+laneHeight-4, serviceColor(name), f.Kind)
			}
		}
		fmt.Fprint(w, "</g>\n")
		used += laneHeight
	}
	return used
}

// writeFaultBands casts each fault window over a plot as a light band of
// its service's colour, so a dip lines up with its cause.
func writeFaultBands(w io.Writer, sc Scenario, a timeAxis, top, bottom float64) {
	for _, f := range sc.Faults {
		fmt.Fprintf(w, `<rect class="fault-band" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.08"/>`+"\n",
			a.x(f.Start), top, max(a.x(f.End)-a.x(f.Start), 1), bottom-top, serviceColor(f.Service))
	}
}

// legendItem is one entry of a chart's legend.
type legendItem struct{ label, color string }

// writeLegend writes a chart's legend as HTML above it, off the plot.
func writeLegend(w io.Writer, id string, items []legendItem) {
	fmt.Fprintf(w, `<p class="legend" id="legend-%s">`, id)
	for _, it := range items {
		fmt.Fprintf(w, `<span><span class="swatch" style="background:%s"></span>%s</span>`, it.color, html.EscapeString(it.label))
	}
	fmt.Fprint(w, "</p>\n")
}

// points formats (x, y) pairs for a polyline or polygon.
func points(xys [][2]float64) string {
	var b strings.Builder
	for i, p := range xys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", p[0], p[1])
	}
	return b.String()
}
