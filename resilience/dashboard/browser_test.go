package dashboard_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/dashboard"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// chromiumBin finds headless Chromium: $RIPRAP_CHROMIUM_BIN, else
// chromium or chromium-browser on PATH. Without it the test is skipped,
// unless RIPRAP_REQUIRE_SERVERS=1 (CI) makes that a failure.
func chromiumBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("RIPRAP_CHROMIUM_BIN"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "headless Chromium not found: install the Debian package chromium or set RIPRAP_CHROMIUM_BIN"
	if os.Getenv("RIPRAP_REQUIRE_SERVERS") == "1" {
		t.Fatal(msg + " (RIPRAP_REQUIRE_SERVERS=1 forbids skipping)")
	}
	t.Skip(msg)
	return ""
}

// runChromium loads url headless with the extra flags and returns its
// standard output. Virtual time ends once the page's stream has ended.
func runChromium(t *testing.T, bin, url string, flags ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--hide-scrollbars", "--user-data-dir=" + t.TempDir(), "--virtual-time-budget=5000"}, flags...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, err, "chromium: %s", stderr.String())
	return stdout.Bytes()
}

// drill builds components with a history to show: bank opened a minute
// ago and stays open, fx opened, probed and closed again (a half-open of
// no duration at all), log's health target turned unhealthy.
func drill(t *testing.T) (*dashboard.Dashboard, func()) {
	now := time.Now()
	clk := clock.NewMock() // the components' past, replayed
	clk.Set(now.Add(-2 * time.Minute))
	reg := &breaker.Registry{}
	d, err := dashboard.New(dashboard.Config{Registry: reg, Title: "payments gateway"})
	require.NoError(t, err)
	bank := newBreaker(t, reg, "bank", breaker.Config{Clock: clk, OpenWait: 10 * time.Minute}, d.Listener())
	fx := newBreaker(t, reg, "fx", breaker.Config{Clock: clk, OpenWait: 30 * time.Second}, d.Listener())
	newBreaker(t, reg, "transaction log (outbox replay)", breaker.Config{Clock: clk}, d.Listener())

	var logErr error
	chk, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1, Clock: clk,
		Listeners: resilience.Listeners{d.Listener()}},
		health.Target{Name: "bank", Critical: true, Probe: func(context.Context) error { return nil }},
		health.Target{Name: "log", Probe: func(context.Context) error { return logErr }})
	require.NoError(t, err)
	lim, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.PerSecond(50), Burst: 20, Name: "bank", Clock: clk})
	require.NoError(t, err)
	bh, err := bulkhead.New(bulkhead.Config{Name: "fx", MaxConcurrent: 8, MaxQueue: 4})
	require.NoError(t, err)
	budget, err := backoff.NewBudget(backoff.BudgetConfig{})
	require.NoError(t, err)
	d.Add(dashboard.Config{Health: chk, Limiters: []*ratelimit.Limiter{lim}, Bulkheads: []*bulkhead.Bulkhead{bh},
		Budgets: map[string]*backoff.Budget{"bank": budget}})

	d.Snapshot() // every breaker closed two minutes ago
	for _, name := range []string{"bank", "log"} {
		_, err := chk.Probe(context.Background(), name)
		require.NoError(t, err)
	}
	clk.Add(20 * time.Second)
	fail(t, fx)
	clk.Add(30 * time.Second)
	succeed(t, fx)
	clk.Add(10 * time.Second)
	fail(t, bank)
	clk.Add(20 * time.Second)
	logErr = errors.New("connection refused")
	_, err = chk.Probe(context.Background(), "log")
	require.NoError(t, err)

	lim.AllowN(14)
	var permits []bulkhead.Permit
	for range 5 {
		p, ok := bh.TryAcquire()
		require.True(t, ok)
		permits = append(permits, p)
	}
	for range 40 {
		budget.Request()
	}
	budget.AllowRetry()
	d.Start()
	return d, func() {
		d.Close()
		for _, p := range permits {
			p.Release()
		}
	}
}

var trackRE = regexp.MustCompile(`<div class="track" data-kind="([a-z]+)" data-name="([^"]+)"[^>]*>((?:<div class="seg"[^>]*></div>)*)</div>`)
var segStateRE = regexp.MustCompile(`<div class="seg" data-state="([a-z_]+)"`)

// tracks returns the states drawn on each timeline of a dumped DOM, by
// kind and name ("breaker/bank").
func tracks(dom string) map[string][]string {
	out := map[string][]string{}
	for _, m := range trackRE.FindAllStringSubmatch(dom, -1) {
		var st []string
		for _, s := range segStateRE.FindAllStringSubmatch(m[3], -1) {
			st = append(st, s[1])
		}
		out[m[1]+"/"+m[2]] = st
	}
	return out
}

// TestInBrowser loads the page in headless Chromium and reads the DOM it
// rendered from the stream, then takes a screenshot for people to look
// at: $RIPRAP_ARTIFACTS/dashboard.png.
func TestInBrowser(t *testing.T) {
	bin := chromiumBin(t)
	d, stop := drill(t)
	defer stop()
	srv := httptest.NewServer(d)
	defer srv.Close()
	url := srv.URL + "/?max=1s" // the stream ends, so virtual time can

	dom := string(runChromium(t, bin, url, "--dump-dom"))
	require.Contains(t, dom, `<h1 id="title">payments gateway</h1>`, "the page ran its script:\n%s", dom)
	assert.Contains(t, dom, `data-conn="ended"`, "the bounded stream ended")
	assert.Contains(t, dom, `<span class="badge" data-state="open" data-name="bank">open</span>`)
	assert.Contains(t, dom, `<span class="badge" data-state="closed" data-name="fx">closed</span>`)
	assert.Contains(t, dom, `<h3>transaction log (outbox replay)</h3>`)
	assert.Contains(t, dom, `<span class="badge" data-state="unhealthy" data-name="log">unhealthy</span>`)
	drawn := tracks(dom)
	assert.Equal(t, []string{"closed", "open"}, drawn["breaker/bank"])
	assert.Equal(t, []string{"closed", "open", "half_open", "closed"}, drawn["breaker/fx"], "a half-open of no duration is drawn")
	assert.Equal(t, []string{"unknown", "healthy", "unhealthy"}, drawn["health/log"])
	assert.Equal(t, []string{"unknown", "healthy"}, drawn["health/bank"])
	assert.Contains(t, dom, "6 of 20", "limiter tokens")
	assert.Contains(t, dom, "5 of 8", "bulkhead use")
	assert.Contains(t, dom, "last error: connection refused")

	dir := os.Getenv("RIPRAP_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	shot := filepath.Join(dir, "dashboard.png")
	_ = os.Remove(shot)
	runChromium(t, bin, url, "--screenshot="+shot, "--window-size=1280,900")
	data, err := os.ReadFile(shot)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err, "the screenshot is a PNG")
	assert.Equal(t, 1280, img.Bounds().Dx())
	assert.Equal(t, 900, img.Bounds().Dy())
	t.Logf("screenshot: %s", shot)
}
