package main

import (
	"fmt"
	"html"
	"io"
	"time"

	"github.com/riprap-go/riprap/payments/gateway"
)

// throughBin is the width of the bins the throughput chart averages over.
const throughBin = 500 * time.Millisecond

// outcomeColors: green for money moved, blue for a refusal that is safe
// to retry, amber for an outcome still being learnt, red for one nobody
// will ever learn.
var outcomeColors = map[gateway.State]string{
	gateway.Succeeded: "#2e7d32", gateway.Declined: "#8d6e63", gateway.Rejected: "#1565c0",
	gateway.Pending: "#f9a825", Unknown: "#c62828",
}

// outcomeLabels name the states in the outcomes chart's legend.
var outcomeLabels = map[gateway.State]string{
	gateway.Succeeded: "succeeded", gateway.Declined: "declined",
	gateway.Rejected: "rejected: not attempted, safe to retry", gateway.Pending: "pending: being reconciled",
	Unknown: "unknown: nobody will learn the outcome",
}

// runColor tells the runs apart in the throughput chart.
func runColor(r *runResult) string {
	switch {
	case r.oneBank:
		return "#ef6c00"
	case r.protected:
		return "#1565c0"
	}
	return "#9e9e9e"
}

// chartSeries is one line of a chart: (seconds, value) points.
type chartSeries struct {
	name   string
	color  string
	points [][2]float64
}

// writeThroughput charts payments succeeded per second in each run, each
// line stopping where the load ended.
func writeThroughput(w io.Writer, rep *report) {
	fmt.Fprint(w, "<h2>Payments succeeded per second</h2>\n")
	var series []chartSeries
	var items []legendItem
	end := rep.scenario.Duration
	for _, r := range rep.results {
		name := runHeading(r)
		series = append(series, chartSeries{name: name, color: runColor(r), points: throughput(r, gateway.Succeeded)})
		items = append(items, legendItem{name, runColor(r)})
		end = max(end, span(r))
	}
	writeLegend(w, "throughput", items)
	writeLineChart(w, "throughput", rep.scenario, timeAxis{end: end}, "payments/s", series)
	fmt.Fprintf(w, `<p class="note">Averaged over %s. The lines stop where the load ended: past it no payment is due, so the count falls to zero for want of payments, not for a failure.</p>`+"\n", throughBin)
}

// writeLineChart draws series over the fault bands, on a y axis in unit
// with gridlines, the fault lanes under the plot and the load's end
// marked. Its legend is written by the caller, above it.
func writeLineChart(w io.Writer, id string, sc Scenario, a timeAxis, unit string, series []chartSeries) {
	peak := 0.0
	for _, s := range series {
		for _, p := range s.points {
			peak = max(peak, p[1])
		}
	}
	const top = 10.0
	lanes := float64(laneHeight * len(faultyServices(sc)))
	bottom := top + chartTall
	height := int(bottom+6+lanes) + axisSpace
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-%s" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`+"\n",
		id, svgWidth, height, svgWidth, height)
	writePatterns(w, id)
	writeFaultBands(w, sc, a, top, bottom)
	v := newValueAxis(peak, bottom, chartTall, unit)
	v.write(w)
	for _, s := range series {
		xy := make([][2]float64, 0, len(s.points))
		for _, p := range s.points {
			xy = append(xy, [2]float64{a.x(time.Duration(p[0] * float64(time.Second))), v.y(p[1])})
		}
		fmt.Fprintf(w, `<polyline class="series" fill="none" stroke="%s" stroke-width="2" points="%s"><title>%s</title></polyline>`+"\n",
			s.color, points(xy), html.EscapeString(s.name))
	}
	lanesEnd := bottom + 6 + writeFaultLanes(w, id, sc, a, bottom+4)
	writeLoadEnd(w, a, sc.Duration, top, bottom)
	writeTimeAxis(w, a, lanesEnd)
	fmt.Fprint(w, "</svg>\n")
}

// writeOutcomes charts, for each run, how the payments answered so far
// ended, stacked: what riprap changes is less how many succeed than that
// every other one is a refusal known to be safe to retry, or an outcome
// being learnt, instead of an unknown.
func writeOutcomes(w io.Writer, rep *report) {
	fmt.Fprint(w, "<h2>Payment outcomes over time</h2>\n")
	var items []legendItem
	for _, st := range allStates {
		items = append(items, legendItem{outcomeLabels[st], outcomeColors[st]})
	}
	writeLegend(w, "outcomes", items)
	peak, end := 0.0, rep.scenario.Duration
	for _, r := range rep.results {
		end = max(end, span(r))
		if n := len(r.samples); n > 0 {
			peak = max(peak, float64(sum(r.samples[n-1].answered[:])))
		}
	}
	for _, r := range rep.results {
		fmt.Fprintf(w, "<h3>%s</h3>\n", html.EscapeString(runHeading(r)))
		writeStacked(w, "outcomes-"+r.label, rep.scenario, timeAxis{end: end}, peak, r.samples)
	}
	fmt.Fprint(w, `<p class="note">Payments answered so far, by what Pay answered; both runs on one scale. A pending payment is settled later by the reconciler (see the report for the final states).</p>`+"\n")
}

// writeStacked draws each state's cumulative count stacked on the ones
// before it.
func writeStacked(w io.Writer, id string, sc Scenario, a timeAxis, peak float64, samples []sample) {
	const top = 10.0
	lanes := float64(laneHeight * len(faultyServices(sc)))
	bottom := top + chartTall
	height := int(bottom+6+lanes) + axisSpace
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" class="chart outcomes" id="chart-%s" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`+"\n",
		id, svgWidth, height, svgWidth, height)
	writePatterns(w, id)
	v := newValueAxis(peak, bottom, chartTall, "payments answered")
	v.write(w)
	for i, st := range allStates {
		var upper, lower [][2]float64
		for _, s := range samples {
			below := sum(s.answered[:i])
			x := a.x(s.t)
			upper = append(upper, [2]float64{x, v.y(float64(below + s.answered[i]))})
			lower = append(lower, [2]float64{x, v.y(float64(below))})
		}
		for j := len(lower) - 1; j >= 0; j-- {
			upper = append(upper, lower[j])
		}
		n := 0
		if len(samples) > 0 {
			n = samples[len(samples)-1].answered[i]
		}
		fmt.Fprintf(w, `<polygon class="area" data-state="%s" data-count="%d" fill="%s" fill-opacity="0.85" points="%s"><title>%s: %d</title></polygon>`+"\n",
			st, n, outcomeColors[st], points(upper), html.EscapeString(outcomeLabels[st]), n)
	}
	lanesEnd := bottom + 6 + writeFaultLanes(w, id, sc, a, bottom+4)
	writeLoadEnd(w, a, sc.Duration, top, bottom)
	writeTimeAxis(w, a, lanesEnd)
	fmt.Fprint(w, "</svg>\n")
}

// throughput bins a run's samples into payments answered in state st per
// second, up to the end of the load.
func throughput(r *runResult, st gateway.State) [][2]float64 {
	var out [][2]float64
	i := stateIndex(st)
	var prev sample
	for _, s := range r.samples {
		if s.t > r.scenario.Duration+throughBin/2 {
			break
		}
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
