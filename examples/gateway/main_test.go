package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
)

func TestJSONLogsCarryStateChangesOnly(t *testing.T) {
	var out bytes.Buffer
	l := stateChangesOnly(resilience.SlogListener(newLogger(newPrinter(&out, true)), resilience.SlogOptions{}))
	assert.False(t, l.Kinds.Has(resilience.EventRetry), "a call pays nothing for this listener")
	l.Func(resilience.Event{Kind: resilience.EventStateChange, Policy: "breaker", Name: "bank", From: "closed", To: "open",
		Degraded: true, Reason: "5 consecutive failures", Detail: struct{ Big string }{"dropped"}})
	var rec map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &rec), "exactly one JSON record: %s", out.String())
	assert.Equal(t, "WARN", rec["level"])
	assert.Equal(t, "log", rec["type"])
	assert.Equal(t, "state change", rec["msg"])
	assert.Equal(t, "open", rec["to"])
	assert.NotContains(t, rec, "snapshot", "snapshots are dropped to keep lines short")
}

func TestSwitchHandlerServesTheCurrentGatewayOnly(t *testing.T) {
	h, serve := switchHandler()
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		return rec.Code, rec.Body.String()
	}
	code, _ := get()
	assert.Equal(t, http.StatusServiceUnavailable, code)
	end := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"pending":0}`) }))
	code, body := get()
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, `{"pending":0}`, body)
	end()
	code, _ = get()
	assert.Equal(t, http.StatusServiceUnavailable, code)
}

// Issue 12, item 9: the status server answers GET on its known paths only,
// and bounds every phase of a connection.
func TestStatusServerAnswersGETOnKnownPathsOnly(t *testing.T) {
	m, err := newMonitor()
	require.NoError(t, err)
	defer m.close()
	defer m.serveGW(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "status") }))()
	srv := newStatusHTTPServer(m)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/", http.StatusFound},
		{http.MethodGet, "/dashboard/", http.StatusOK},
		{http.MethodGet, "/dashboard/snapshot", http.StatusOK},
		{http.MethodGet, "/dashboard/nowhere", http.StatusNotFound},
		{http.MethodGet, "/metrics", http.StatusOK},
		{http.MethodPost, "/dashboard/", http.StatusMethodNotAllowed},
		{http.MethodPost, "/metrics", http.StatusMethodNotAllowed},
		{http.MethodGet, "/v1/status", http.StatusOK},
		{http.MethodHead, "/v1/status", http.StatusOK},
		{http.MethodGet, "/v1/payments/pay-1-000001", http.StatusOK},
		{http.MethodGet, "/healthz", http.StatusOK},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/v1/status", http.StatusMethodNotAllowed},
		{http.MethodPost, "/v1/payments/pay-1-000001", http.StatusMethodNotAllowed},
		{http.MethodPost, "/v1/payments", http.StatusNotFound},
		{http.MethodGet, "/admin", http.StatusNotFound},
		{http.MethodGet, "/v1/status/x", http.StatusNotFound},
		{http.MethodPut, "/nowhere", http.StatusNotFound},
	} {
		rec := httptest.NewRecorder()
		srv.Handler.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		assert.Equal(t, tc.want, rec.Code, "%s %s", tc.method, tc.path)
		if tc.want == http.StatusMethodNotAllowed {
			assert.Contains(t, rec.Header().Get("Allow"), http.MethodGet, "%s %s", tc.method, tc.path)
		}
	}
	rec := httptest.NewRecorder()
	srv.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, "/dashboard/", rec.Header().Get("Location"))
	assert.Equal(t, serverReadHeaderTimeout, srv.ReadHeaderTimeout)
	assert.Equal(t, serverReadTimeout, srv.ReadTimeout)
	assert.Equal(t, serverWriteTimeout, srv.WriteTimeout)
	assert.Equal(t, serverIdleTimeout, srv.IdleTimeout)
	for _, d := range []time.Duration{srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout} {
		assert.Positive(t, d)
	}
}

func TestStatusServerListensAndWarnsOffLoopback(t *testing.T) {
	var out bytes.Buffer
	_, stop, err := statusServer("127.0.0.1:0", newPrinter(&out, false))
	require.NoError(t, err)
	defer stop()
	assert.NotContains(t, out.String(), "warning")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3, out.String())
	assert.Regexp(t, `^serving the live dashboard on http://127\.0\.0\.1:\d+/dashboard/$`, lines[0])
	assert.Regexp(t, `^serving Prometheus metrics on http://127\.0\.0\.1:\d+/metrics$`, lines[1])
	url := strings.TrimPrefix(lines[2], "serving the gateway status on ")
	assert.True(t, strings.HasSuffix(url, "/v1/status"), url)
	resp, err := http.Get(url)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "no gateway yet")

	out.Reset()
	_, stopAll, err := statusServer("0.0.0.0:0", newPrinter(&out, false))
	require.NoError(t, err)
	defer stopAll()
	assert.Regexp(t, `^warning: -listen (0\.0\.0\.0|\[::\]):\d+ is not a loopback address`, out.String())

	_, _, err = statusServer("256.0.0.1:1", newPrinter(io.Discard, false))
	assert.ErrorContains(t, err, "-listen:")
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:0": true, "[::1]:0": true, "0.0.0.0:0": false, "[::]:0": false} {
		ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", addr)
		if err != nil {
			t.Logf("%s: %v (no such interface here)", addr, err)
			continue
		}
		assert.Equal(t, want, isLoopback(ln.Addr()), addr)
		_ = ln.Close()
	}
}

// Issue 17: -h prints the usage and succeeds.
func TestHelpExitsZero(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		var out, stderr bytes.Buffer
		require.NoError(t, run(context.Background(), &out, &stderr, []string{arg}), arg)
		assert.Contains(t, stderr.String(), "Usage of gateway", arg)
		assert.Contains(t, stderr.String(), "-store", arg)
		assert.Contains(t, stderr.String(), "live dashboard", arg)
		assert.Empty(t, out.String(), arg)
	}
}

// Issue 17: with -json every line of standard output is one JSON object
// with a type — the run headers, the progress, the logs, the notices and
// the report — on the command's default SQLite store.
func TestJSONFlagMakesEveryLineJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"name": "tiny", "duration": "1500ms", "rate": 10,
		"faults": [{"service": "bank", "kind": "outage", "start": "500ms", "end": "1s"}]}`), 0o644))
	report := filepath.Join(t.TempDir(), "drill.html")
	var out bytes.Buffer
	err := run(context.Background(), &out, io.Discard, []string{"-json", "-scenario", path, "-concurrency", "5", "-report", report})
	if err != nil {
		require.ErrorContains(t, err, "failed a check", "only a check may fail, on a loaded machine")
	}
	types := map[string]int{}
	var last map[string]any
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec), "not JSON: %s", sc.Text())
		typ, _ := rec["type"].(string)
		require.NotEmpty(t, typ, "no type: %s", sc.Text())
		types[typ]++
		last = rec
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, 2, types["run"], "a header per run")
	assert.Positive(t, types["progress"])
	assert.Positive(t, types["log"], "state changes and fault windows")
	assert.Equal(t, 1, types["notice"], "the HTML report written")
	assert.Equal(t, 1, types["report"])
	require.NotNil(t, last)
	assert.Equal(t, "report", last["type"], "the report comes last")
	assert.Equal(t, "tiny", last["scenario"])
	assert.Len(t, last["runs"], 2)
	assert.Len(t, last["fault_windows"], 1)
	assert.Contains(t, last["store"], "SQLite")
}

// -store: a temporary SQLite database removed at exit by default, a new
// file kept when named, the in-memory store on request; never an existing
// file, which would not match the drill's empty simulated bank.
func TestStoreFlag(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where os.MkdirTemp puts the temporary database
	open, name, cleanup, err := sqliteStore("")
	require.NoError(t, err)
	assert.Equal(t, "SQLite (NORMAL), temporary", name)
	_, closeStore, err := open("protected")
	require.NoError(t, err)
	require.NoError(t, closeStore())
	dbs, err := filepath.Glob(filepath.Join(tmp, "riprap-drill-*", "drill.db"))
	require.NoError(t, err)
	require.Len(t, dbs, 1)
	cleanup()
	assert.NoDirExists(t, filepath.Dir(dbs[0]), "removed at exit")

	kept := filepath.Join(t.TempDir(), "kept.db")
	open, name, cleanup, err = sqliteStore(kept)
	require.NoError(t, err)
	assert.Equal(t, "SQLite (NORMAL), "+kept, name)
	_, closeStore, err = open("protected")
	require.NoError(t, err)
	require.NoError(t, closeStore())
	cleanup()
	assert.FileExists(t, kept, "kept")
	_, _, _, err = sqliteStore(kept)
	assert.ErrorContains(t, err, "-store "+kept+": the drill needs a new file")

	open, name, _, err = sqliteStore(memoryStore)
	require.NoError(t, err)
	assert.Nil(t, open, "the gateway makes its own")
	assert.Equal(t, "in memory", storeLabel(name))
}

// Each protected run of a drill gets a database of its own: a two-bank
// scenario runs the gateway twice with the same payments, and on a shared
// ledger the second run would answer the first run's payments from it
// (found in a run: 1,816 "succeeded" payments the second run's banks never
// debited).
func TestEachRunHasItsOwnDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drill.db")
	open, _, cleanup, err := sqliteStore(path)
	require.NoError(t, err)
	defer cleanup()
	for _, run := range []string{runLabel(true, true), runLabel(true, false)} {
		_, closeStore, err := open(run)
		require.NoError(t, err, run)
		require.NoError(t, closeStore())
	}
	assert.FileExists(t, path, "the main protected run's")
	assert.FileExists(t, filepath.Join(filepath.Dir(path), "drill-protected-one-bank.db"), "the primary-only run's")
	_, _, err = open(runLabel(true, false))
	assert.ErrorContains(t, err, "the drill needs a new file", "a run never reopens a database")
}
