package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// promServer is a real Prometheus process on a loopback port.
type promServer struct {
	base   string // http://127.0.0.1:port
	client *http.Client
}

// startPrometheus starts the Prometheus binary named by
// RIPRAP_PROMETHEUS_BIN, or found on PATH, scraping target's /metrics
// every second. Without one the test is skipped, unless
// RIPRAP_REQUIRE_SERVERS=1 (CI) makes that a failure. The process is
// killed by its PID and waited for when the test ends; its storage lives
// in the test's temporary directory.
func startPrometheus(t *testing.T, target string) *promServer {
	t.Helper()
	bin := os.Getenv("RIPRAP_PROMETHEUS_BIN")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("prometheus"); err != nil {
			msg := "no Prometheus server: install the Debian package prometheus or set RIPRAP_PROMETHEUS_BIN"
			if os.Getenv("RIPRAP_REQUIRE_SERVERS") == "1" {
				t.Fatal(msg + " (RIPRAP_REQUIRE_SERVERS=1 forbids skipping)")
			}
			t.Skip(msg)
		}
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"+
		"scrape_configs:\n  - job_name: drill\n    metrics_path: %s\n    static_configs:\n      - targets: ['%s']\n",
		pathMetrics, target)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o600))
	logPath := filepath.Join(dir, "prometheus.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	addr := freeLoopbackAddr(t)
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start(), "starting %s", bin)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("prometheus output:\n%s", out)
		}
	})
	return &promServer{base: "http://" + addr, client: &http.Client{Timeout: 5 * time.Second}}
}

// freeLoopbackAddr returns a loopback address whose port was free a moment
// ago: the kernel picks it, so parallel runs do not collide.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func (s *promServer) getJSON(path string, v any) error {
	resp, err := s.client.Get(s.base + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// targetUp reports whether Prometheus has scraped its one target.
func (s *promServer) targetUp() bool {
	var r struct {
		Data struct {
			ActiveTargets []struct {
				Health string `json:"health"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if s.getJSON("/api/v1/targets", &r) != nil {
		return false
	}
	return len(r.Data.ActiveTargets) == 1 && r.Data.ActiveTargets[0].Health == "up"
}

// query runs an instant PromQL query; ok is false unless the answer has
// exactly one sample.
func (s *promServer) query(q string) (v float64, ok bool) {
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if s.getJSON("/api/v1/query?query="+url.QueryEscape(q), &r) != nil || len(r.Data.Result) != 1 {
		return 0, false
	}
	text, _ := r.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(text, 64)
	return v, err == nil
}

// is returns a condition: q's one sample equals want.
func (s *promServer) is(q string, want float64) func() bool {
	return func() bool {
		v, ok := s.query(q)
		return ok && v == want
	}
}

// scrapedOutage is the drill Prometheus watches: the bank works long
// enough for the first scrapes (which can take ~10s to begin), refuses
// everything for a while, then recovers. The test ends the drill once it
// has seen the recovery.
const scrapedOutage = `{"name": "scraped-outage", "description": "the bank refuses everything from 12s to 30s",
	"duration": "120s", "rate": 30,
	"faults": [{"service": "bank", "kind": "outage", "start": "12s", "end": "30s"}]}`

// Issue 17: a real Prometheus server scrapes the drill's gateway through
// -listen's /metrics, and PromQL shows the bank breaker leave closed
// during the scripted outage and close again after it.
func TestPrometheusScrapesTheGatewaysBankBreakerFlip(t *testing.T) {
	addr := freeLoopbackAddr(t)
	prom := startPrometheus(t, addr)
	startLiveDrill(t, scrapedOutage, "-baseline=false", "-concurrency", "10", "-listen", addr)
	await(t, 2*time.Minute, "Prometheus scrape the drill", prom.targetUp)

	closed := `riprap_circuitbreaker_state{job="drill",name="bank",state="closed"}`
	await(t, 2*time.Minute, "the bank breaker leave closed in the outage", prom.is(closed, 0))
	await(t, 2*time.Minute, "the bank breaker closed after the outage", prom.is(closed, 1))
	// The stored history holds the flip: closed rose again (and fell
	// before, when the first scrapes came before the outage), and an open
	// state — the breaker's own, or held by the health check — was
	// scraped in between.
	await(t, time.Minute, "the flip in the stored history", func() bool {
		v, ok := prom.query(`changes(` + closed + `[10m])`)
		return ok && v >= 1
	})
	await(t, time.Minute, "an open state in the stored history", prom.is(
		`max(max_over_time(riprap_circuitbreaker_state{job="drill",name="bank",state=~"open|held_open"}[10m]))`, 1))
	await(t, time.Minute, "the bank's health target unhealthy in the stored history", prom.is(
		`max_over_time(riprap_health_target_status{job="drill",target="bank",status="unhealthy"}[10m])`, 1))
	await(t, time.Minute, "the bank's rate limiter exported", func() bool {
		_, ok := prom.query(`riprap_ratelimiter_available_permissions{job="drill",name="bank"}`)
		return ok
	})
	await(t, time.Minute, "refused transfers counted", func() bool {
		v, ok := prom.query(`riprap_circuitbreaker_calls_total{job="drill",name="bank",kind="not_permitted"}`)
		return ok && v > 0
	})
}
