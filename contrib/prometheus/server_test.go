package riprapprom_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/require"

	riprapprom "github.com/riprap-go/riprap/contrib/prometheus"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// prometheusServer is a real Prometheus process on a loopback port, for
// the end-to-end test.
type prometheusServer struct {
	base   string // http://127.0.0.1:port
	client *http.Client
	log    string // its output, shown when the test fails
}

// startPrometheus starts the Prometheus binary named by
// RIPRAP_PROMETHEUS_BIN, or found on PATH, scraping target every second.
// Without one the test is skipped, unless RIPRAP_REQUIRE_SERVERS=1 (CI),
// where a missing server is a failure. The process is killed and waited
// for when the test ends; its storage lives in t.TempDir().
func startPrometheus(t *testing.T, target string) *prometheusServer {
	t.Helper()
	bin := os.Getenv("RIPRAP_PROMETHEUS_BIN")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("prometheus"); err != nil {
			msg := "no Prometheus server: install the Debian package prometheus or set RIPRAP_PROMETHEUS_BIN"
			if os.Getenv("RIPRAP_REQUIRE_SERVERS") == "1" {
				t.Fatal(msg + " (RIPRAP_REQUIRE_SERVERS=1)")
			}
			t.Skip(msg)
		}
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"+
		"scrape_configs:\n  - job_name: riprap\n    static_configs:\n      - targets: ['%s']\n", target)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o600))
	logPath := filepath.Join(dir, "prometheus.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	t.Cleanup(func() { logFile.Close() })

	addr := freeLoopbackAddr(t)
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start(), "starting %s", bin)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	s := &prometheusServer{base: "http://" + addr, client: &http.Client{Timeout: 5 * time.Second}, log: logPath}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("prometheus output:\n%s", out)
		}
	})
	return s
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

// getJSON decodes the JSON answer of GET path into v.
func (s *prometheusServer) getJSON(path string, v any) error {
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

// targetUp reports whether Prometheus has scraped its target successfully.
func (s *prometheusServer) targetUp() bool {
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

// query runs an instant PromQL query and returns the value of its only
// sample; ok is false when the answer has no single sample.
func (s *prometheusServer) query(q string) (v float64, ok bool) {
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

// await polls cond until it holds. Waiting on a real server is the one
// place this module polls in real time: the loop is bounded and no timing
// is asserted.
func await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); {
		if cond() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("Prometheus never showed %s", what)
}

// TestPrometheusScrapesBreakerFlip runs a real Prometheus server against a
// test HTTP server exporting one breaker, opens and closes the breaker on a
// script, and reads each state back through PromQL.
func TestPrometheusScrapesBreakerFlip(t *testing.T) {
	clk := clock.NewMock() // the breaker's clock: it stays open until the script says
	b := newBreaker(t, "bank", clk)
	reg := prometheus.NewRegistry()
	reg.MustRegister(riprapprom.NewCollector().AddBreaker(b))
	app := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(app.Close)

	prom := startPrometheus(t, app.Listener.Addr().String())
	await(t, "its target up", prom.targetUp)

	stateIs := func(state string) func() bool {
		return func() bool {
			v, ok := prom.query(`riprap_circuitbreaker_state{name="bank",state="` + state + `"}`)
			return ok && v == 1
		}
	}
	await(t, "the breaker closed", stateIs("closed"))

	// The outage: two failures open the breaker.
	require.Error(t, run(fail, b))
	require.Error(t, run(fail, b))
	require.Equal(t, breaker.Open, b.State())
	await(t, "the breaker open", stateIs("open"))
	await(t, "a refused call counted", func() bool {
		require.ErrorIs(t, run(ok, b), breaker.ErrOpen)
		v, ok := prom.query(`riprap_circuitbreaker_calls_total{name="bank",kind="not_permitted"}`)
		return ok && v >= 1
	})

	// Recovery: the open wait passes and a probe succeeds.
	clk.Add(time.Second)
	require.NoError(t, run(ok, b))
	require.Equal(t, breaker.Closed, b.State())
	await(t, "the breaker closed again", stateIs("closed"))

	// The stored history holds the flip: the open series rose and fell.
	await(t, "the open series changing twice", func() bool {
		v, ok := prom.query(`changes(riprap_circuitbreaker_state{name="bank",state="open"}[10m])`)
		return ok && v >= 2
	})
}
