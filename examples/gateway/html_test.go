package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordedHTMLReport is a report of both runs built from figures, no
// network: the bank breaker opens, is held, and closes after a half-open
// of 10ms; the load ends at 6s and the drain lasts to 7s.
func recordedHTMLReport() *report {
	sc := testScenario()
	var samples []sample
	for i := 0; i <= 14; i++ {
		n := min(i, 12) // no payment is due past 6s
		samples = append(samples, sample{t: time.Duration(i) * 500 * time.Millisecond,
			answered: [5]int{30 * n, 2 * n, 10 * n, n / 4, 0}, outbox: max(0, 8-i)})
	}
	prot := &runResult{label: "protected", protected: true, scenario: sc, traffic: sc.Duration, samples: samples,
		changes: []stateChange{
			{t: 700 * time.Millisecond, name: "bank", from: "closed", to: "open"},
			{t: 1200 * time.Millisecond, name: "bank", from: "open", to: "held_open"},
			{t: 3600 * time.Millisecond, name: "bank", from: "held_open", to: "half_open"},
			{t: 3610 * time.Millisecond, name: "bank", from: "half_open", to: "closed"},
		}}
	plainSamples := make([]sample, len(samples))
	for i, s := range samples {
		plainSamples[i] = sample{t: s.t, answered: [5]int{s.answered[0] / 2, s.answered[1], 0, 0, s.answered[0] / 2}}
	}
	plain := &runResult{label: "unprotected", scenario: sc, traffic: sc.Duration, samples: plainSamples}
	rep := newReport(sc, 1, 10, plain, prot)
	rep.runs[1].services = []string{"a report line far longer than the page is wide: " + string(bytes.Repeat([]byte("x"), 400))}
	return rep
}

var (
	briefRE     = regexp.MustCompile(`<rect class="seg" data-state="half_open" x="[0-9.]+" y="\d+" width="([0-9.]+)"[^>]*data-brief="true"`)
	laneRE      = regexp.MustCompile(`<rect class="fault" data-service="([a-z0-9]+)" data-kind="([a-z]+)"`)
	gridRE      = regexp.MustCompile(`<line class="grid"`)
	tickRE      = regexp.MustCompile(`<text class="tick" x="\d+" y="[0-9.]+" text-anchor="end">(\d+)</text>`)
	unitRE      = regexp.MustCompile(`<g class="y-axis" data-unit="([^"]+)">`)
	areaRE      = regexp.MustCompile(`<polygon class="area" data-state="([a-z_]+)" data-count="(\d+)"`)
	outcomesRE  = regexp.MustCompile(`<svg [^>]*class="chart outcomes" id="chart-outcomes-([a-z]+)"`)
	seriesRE    = regexp.MustCompile(`<polyline class="series" [^>]*points="([^"]*)"`)
	loadEndRE   = regexp.MustCompile(`<g class="load-end">`)
	svgTextRE   = regexp.MustCompile(`(?s)<svg[^>]*class="chart" id="chart-throughput".*?</svg>`)
	lastPointRE = regexp.MustCompile(`([0-9.]+),[0-9.]+$`)
)

// checkReportDOM asserts the fixes of issue 17's "drill's HTML report" on
// a page, as written or as a browser rendered it.
func checkReportDOM(t *testing.T, dom string) {
	t.Helper()
	m := briefRE.FindStringSubmatch(dom)
	require.NotNil(t, m, "the 10ms half-open is drawn, flagged brief")
	width, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, width, float64(minSegment), "at least the minimum width")

	lanes := map[string]string{}
	for _, l := range laneRE.FindAllStringSubmatch(dom, -1) {
		lanes[l[1]] = l[2]
	}
	assert.Equal(t, map[string]string{"bank": "hang", "fx": "slowdown", "log": "outage"}, lanes,
		"each service's windows in a lane of its own, FX apart from the log")
	assert.Contains(t, dom, `fill="url(#hatch-timelines)"`, "the hatch over the timeline")
	assert.Contains(t, dom, `fill="#ffffff" fill-opacity="0.7"`, "a white hatch, which shows on dark red")

	assert.Greater(t, len(gridRE.FindAllString(dom, -1)), 12, "gridlines on every chart")
	assert.GreaterOrEqual(t, len(tickRE.FindAllString(dom, -1)), 12, "y ticks beyond 0 and a maximum")
	units := map[string]bool{}
	for _, u := range unitRE.FindAllStringSubmatch(dom, -1) {
		units[u[1]] = true
	}
	assert.Equal(t, map[string]bool{"payments/s": true, "payments answered": true, "entries": true}, units)
	assert.Contains(t, dom, `<p class="legend" id="legend-throughput">`, "line labels in a legend off the plot")
	assert.NotRegexp(t, `<text x="\d+" y="\d+" fill="#1565c0">with riprap</text>`, dom, "no label on a line")

	thr := svgTextRE.FindString(dom)
	require.NotEmpty(t, thr)
	assert.Contains(t, thr, `class="load-end"`, "the load's end is marked")
	for _, s := range seriesRE.FindAllStringSubmatch(thr, -1) {
		last := lastPointRE.FindStringSubmatch(s[1])
		require.NotNil(t, last, s[1])
		x, err := strconv.ParseFloat(last[1], 64)
		require.NoError(t, err)
		assert.LessOrEqual(t, x, timeAxis{end: 7 * time.Second}.x(6*time.Second)+0.1, "a line stops at the end of the load")
	}
	assert.GreaterOrEqual(t, len(loadEndRE.FindAllString(dom, -1)), 4)

	runs := outcomesRE.FindAllStringSubmatch(dom, -1)
	require.Len(t, runs, 2, "an outcomes chart for each run")
	assert.Equal(t, "unprotected", runs[0][1])
	assert.Equal(t, "protected", runs[1][1])
	counts := map[string][]string{}
	for _, a := range areaRE.FindAllStringSubmatch(dom, -1) {
		counts[a[1]] = append(counts[a[1]], a[2])
	}
	assert.Equal(t, map[string][]string{"succeeded": {"180", "360"}, "declined": {"24", "24"}, "rejected": {"0", "120"},
		"pending_reconciliation": {"0", "3"}, "unknown": {"180", "0"}}, counts)
	assert.Regexp(t, `pre \{[^}]*white-space: pre-wrap`, dom, "long report lines wrap")
}

// Issue 17: the report's charts, checked on the page as written.
func TestHTMLReportCharts(t *testing.T) {
	var page bytes.Buffer
	writeHTML(&page, recordedHTMLReport())
	assertWellFormedReport(t, page.Bytes())
	checkReportDOM(t, page.String())
}

// Issue 17: the same checks on the DOM headless Chromium renders from the
// report, and a screenshot at $RIPRAP_ARTIFACTS/drill-report.png.
func TestHTMLReportInBrowser(t *testing.T) {
	bin := chromiumBin(t)
	path := filepath.Join(t.TempDir(), "drill.html")
	require.NoError(t, writeHTMLFile(path, recordedHTMLReport()))
	url := "file://" + path
	dom := string(runChromium(t, bin, url, "--dump-dom"))
	require.Contains(t, dom, "<h1>riprap drill: test</h1>", "Chromium rendered the page:\n%s", dom)
	checkReportDOM(t, dom)

	shot := artifactPath(t, "drill-report.png")
	runChromium(t, bin, url, "--screenshot="+shot, "--window-size=1100,3000")
	data, err := os.ReadFile(shot)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err, "the screenshot is a PNG")
	assert.Equal(t, 1100, img.Bounds().Dx())
	t.Logf("screenshot: %s", shot)
}
