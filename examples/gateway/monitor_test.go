package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sseChange is the data of a dashboard "change" event.
type sseChange struct {
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Transition struct {
		State string `json:"state"`
	} `json:"transition"`
}

// streamChanges reads the dashboard's event stream until it ends and
// keeps its "change" events.
type streamChanges struct {
	mu      sync.Mutex // protects changes
	changes []sseChange
}

func (s *streamChanges) read(t *testing.T, resp *http.Response) {
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "change":
			var c sseChange
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &c); err != nil {
				t.Errorf("a change event that is not JSON: %s", line)
				continue
			}
			s.mu.Lock()
			s.changes = append(s.changes, c)
			s.mu.Unlock()
		}
	}
}

// of returns the states the stream reported for one component.
func (s *streamChanges) of(kind, name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.changes {
		if c.Kind == kind && c.Name == name {
			out = append(out, c.Transition.State)
		}
	}
	return out
}

// Issue 17: `-listen` serves the live dashboard of the drill's gateway
// while it runs — its breakers, bank limiter, health targets and retry
// budget — on the page, at /snapshot and as a stream that reports the
// bank breaker's change as it happens.
func TestListenServesTheLiveDashboardOfTheGateway(t *testing.T) {
	d := startLiveDrill(t, outageScenario, "-baseline=false", "-concurrency", "10")

	// The stream opens before the outage (1s into the run), so it sees
	// the bank breaker leave closed.
	resp, err := http.Get(d.base + pathDashboard + "events?max=40s")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	var stream streamChanges
	read := make(chan struct{})
	go func() {
		defer close(read)
		stream.read(t, resp)
	}()
	defer func() {
		_ = resp.Body.Close()
		<-read
	}()

	code, page := d.get(t, "/")
	require.Equal(t, http.StatusOK, code, "the root leads to the dashboard")
	assert.Contains(t, string(page), "<html")
	code, _ = d.get(t, pathMetrics)
	assert.Equal(t, http.StatusOK, code)

	await(t, time.Minute, "the bank breaker leave closed in /snapshot", func() bool {
		tl := d.snapshot(t).timeline("bank")
		return len(tl) >= 2 && tl[0] == "closed" && tl[1] != "closed"
	})
	s := d.snapshot(t)
	var names []string
	for _, b := range s.Breakers {
		names = append(names, b.Snapshot.Name)
	}
	assert.Subset(t, names, []string{"bank", "bank-status", "fx", "log"}, "every breaker of the gateway")
	var targets, limiters, budgets []string
	for _, h := range s.Health {
		targets = append(targets, h.Snapshot.Name)
	}
	for _, l := range s.Limiters {
		limiters = append(limiters, l.Name)
	}
	for _, b := range s.Budgets {
		budgets = append(budgets, b.Name)
	}
	assert.Subset(t, targets, []string{"bank", "fx", "log"}, "the health targets, from the gateway's status")
	assert.Equal(t, []string{"bank"}, limiters, "the bank's rate limiter")
	assert.Equal(t, []string{"bank"}, budgets, "the bank's retry budget")

	await(t, time.Minute, "a change event of the bank breaker on the stream", func() bool {
		return slices.ContainsFunc(stream.of("breaker", "bank"), func(s string) bool { return s != "closed" })
	})
}

var (
	trackRE   = regexp.MustCompile(`<div class="track" data-kind="breaker" data-name="([^"]+)"[^>]*>((?:<div class="seg"[^>]*></div>)*)</div>`)
	segRE     = regexp.MustCompile(`<div class="seg" data-state="([a-z_]+)"`)
	bankBadge = regexp.MustCompile(`<span class="badge" data-state="([a-z_]+)" data-name="bank">`)
)

// breakerTracks returns the states drawn on each breaker's timeline in a
// dumped DOM, by name.
func breakerTracks(dom string) map[string][]string {
	out := map[string][]string{}
	for _, m := range trackRE.FindAllStringSubmatch(dom, -1) {
		for _, s := range segRE.FindAllStringSubmatch(m[2], -1) {
			out[m[1]] = append(out[m[1]], s[1])
		}
	}
	return out
}

// Issue 17: the dashboard of a running drill, in a real browser: the DOM
// Chromium renders shows the gateway's breakers and the bank breaker's
// change; a screenshot is left at $RIPRAP_ARTIFACTS/drill-dashboard.png.
func TestDashboardOfARunningDrillInBrowser(t *testing.T) {
	bin := chromiumBin(t)
	d := startLiveDrill(t, outageScenario, "-baseline=false", "-concurrency", "10")
	await(t, time.Minute, "the bank breaker leave closed", func() bool {
		return len(d.snapshot(t).timeline("bank")) >= 2
	})
	url := d.base + pathDashboard + "?max=1s" // the stream ends, so virtual time can

	dom := string(runChromium(t, bin, url, "--dump-dom"))
	require.Contains(t, dom, `<h1 id="title">riprap drill: the payments gateway</h1>`, "the page ran its script:\n%s", dom)
	tracks := breakerTracks(dom)
	for _, name := range []string{"bank", "bank-status", "fx", "log"} {
		assert.Contains(t, tracks, name, "a timeline for the %s breaker", name)
	}
	require.GreaterOrEqual(t, len(tracks["bank"]), 2, "the bank breaker's change is drawn: %v", tracks["bank"])
	assert.Equal(t, "closed", tracks["bank"][0])
	assert.NotEqual(t, "closed", tracks["bank"][1])
	m := bankBadge.FindStringSubmatch(dom)
	require.NotNil(t, m, "a badge for the bank breaker")

	shot := artifactPath(t, "drill-dashboard.png")
	runChromium(t, bin, url, "--screenshot="+shot, "--window-size=1280,1000")
	data, err := os.ReadFile(shot)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err, "the screenshot is a PNG")
	assert.Equal(t, 1280, img.Bounds().Dx())
	t.Logf("screenshot: %s", shot)
}

// The dashboard's event stream outlives the -listen server's write
// timeout, which is meant for small answers (the dashboard sets a
// deadline of its own on each write), and ends when it asked to, with the
// dashboard's end event.
func TestEventStreamOutlivesTheWriteTimeout(t *testing.T) {
	m, err := newMonitor()
	require.NoError(t, err)
	srv := newStatusHTTPServer(m)
	srv.WriteTimeout = 200 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	defer func() {
		m.close()
		require.NoError(t, srv.Close())
		<-served
	}()
	resp, err := http.Get("http://" + ln.Addr().String() + pathDashboard + "events?max=1500ms")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "the stream was not cut off by the write timeout")
	assert.Contains(t, string(body), "event: end", "the stream ended as asked, after the write timeout")
}
