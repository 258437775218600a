package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// liveDrill is the command running in the background with -listen on a
// loopback port chosen by the kernel, for the tests that watch it from
// outside: over HTTP, in a browser, through Prometheus.
type liveDrill struct {
	base   string // http://127.0.0.1:port
	client *http.Client

	mu    sync.Mutex // protects lines
	lines []string   // its standard output, shown when the test fails
}

// startLiveDrill runs the command with -json -listen 127.0.0.1:0 and the
// scenario file holding scenarioJSON, plus args, until the test ends (then
// it is cancelled and waited for). It returns once the server is up.
func startLiveDrill(t *testing.T, scenarioJSON string, args ...string) *liveDrill {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scenario.json")
	require.NoError(t, os.WriteFile(path, []byte(scenarioJSON), 0o644))
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := run(ctx, pw, io.Discard, append([]string{"-json", "-listen", "127.0.0.1:0", "-scenario", path,
			"-store", memoryStore}, args...))
		_ = pw.CloseWithError(fmt.Errorf("the drill ended: %v", err))
	}()
	d := &liveDrill{client: &http.Client{Timeout: 10 * time.Second}}
	urls := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			d.mu.Lock()
			d.lines = append(d.lines, sc.Text())
			d.mu.Unlock()
			var n notice
			if json.Unmarshal(sc.Bytes(), &n) == nil && n.Type == "notice" && strings.HasSuffix(n.URL, pathDashboard) {
				urls <- strings.TrimSuffix(n.URL, pathDashboard)
			}
		}
		_, _ = io.Copy(io.Discard, pr) // a line too long for the scanner must not block the drill
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		<-scanned
		if t.Failed() {
			t.Logf("the drill's output:\n%s", strings.Join(d.output(), "\n"))
		}
	})
	select {
	case d.base = <-urls:
	case <-done:
		t.Fatalf("the drill ended before serving:\n%s", strings.Join(d.output(), "\n"))
	}
	return d
}

func (d *liveDrill) output() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.lines...)
}

// get returns the status and body of GET path.
func (d *liveDrill) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	resp, err := d.client.Get(d.base + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}

// dashSnapshot is the part of the dashboard's /snapshot the tests read.
type dashSnapshot struct {
	Breakers []struct {
		Snapshot struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"snapshot"`
		Timeline []struct {
			State string `json:"state"`
		} `json:"timeline"`
	} `json:"breakers"`
	Health []struct {
		Snapshot struct {
			Name string `json:"name"`
		} `json:"snapshot"`
	} `json:"health"`
	Limiters []struct {
		Name string `json:"name"`
	} `json:"limiters"`
	Budgets []struct {
		Name string `json:"name"`
	} `json:"budgets"`
}

// snapshot reads the dashboard's /snapshot.
func (d *liveDrill) snapshot(t *testing.T) dashSnapshot {
	t.Helper()
	code, body := d.get(t, pathDashboard+"snapshot")
	require.Equal(t, http.StatusOK, code, "%s", body)
	var s dashSnapshot
	require.NoError(t, json.Unmarshal(body, &s))
	return s
}

// timeline lists the states of the named breaker's timeline in s.
func (s dashSnapshot) timeline(name string) []string {
	for _, b := range s.Breakers {
		if b.Snapshot.Name == name {
			var out []string
			for _, tr := range b.Timeline {
				out = append(out, tr.State)
			}
			return out
		}
	}
	return nil
}

// await polls cond until it holds. Watching a drill that runs in real
// time over real sockets is the one place these tests poll: the loop is
// bounded and no timing is asserted.
func await(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); {
		if cond() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("never saw %s", what)
}

// outageScenario keeps the bank down long enough for a browser or a
// scraper to watch the breaker open while the drill still runs; the tests
// end the drill (cancel it) once they have seen what they look for.
const outageScenario = `{"name": "watched-outage", "description": "the bank refuses everything from 1s to 100s",
	"duration": "120s", "rate": 40,
	"faults": [{"service": "bank", "kind": "outage", "start": "1s", "end": "100s"}]}`

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
// standard output. Virtual time ends when the page has nothing left to
// do, so a page with an event stream must ask for a bounded one.
func runChromium(t *testing.T, bin, url string, flags ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--hide-scrollbars", "--user-data-dir=" + t.TempDir(), "--virtual-time-budget=5000"}, flags...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "chromium: %s", stderr.String())
	return stdout.Bytes()
}

// artifactPath is where a test writes a file for people to look at:
// $RIPRAP_ARTIFACTS (CI keeps it), else the test's temporary directory.
func artifactPath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("RIPRAP_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, name)
	_ = os.Remove(path)
	return path
}
