package sqlitestore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sqlitestore"
	"github.com/riprap-go/riprap/payments/store"
)

// envGatewayChild carries a childConfig, as JSON, to the process that
// TestGatewayCrashChild turns into a gateway.
const envGatewayChild = "SQLITESTORE_GATEWAY_CHILD"

// readyPrefix starts the line a child prints once it serves: the rest is
// its base URL.
const readyPrefix = "GATEWAY-READY "

// childInstance is the Instance of every child of a run: the same name
// after each restart, so that a new child ends the claims of the one
// killed before it at once instead of waiting for them to expire.
const childInstance = "crash-gw"

// childConfig is what a child gateway is told by its parent.
type childConfig struct {
	DB            string // the SQLite file; empty for the broken child's in-memory store
	Bank, FX, Log string // base URLs of the parent's simulated services
	MaxOutbox     int
}

// TestGatewayCrashChild is not a test of its own: it is the gateway
// process that TestGatewayCrash starts, kills and restarts. It
// serves until killed, and leaves when its parent goes (its stdin closes).
func TestGatewayCrashChild(t *testing.T) {
	raw := os.Getenv(envGatewayChild)
	if raw == "" {
		t.Skip("the gateway process of TestGatewayCrash; runs only as its child")
	}
	var cfg childConfig
	require.NoError(t, json.Unmarshal([]byte(raw), &cfg))
	go func() { // an orphan must not outlive a parent that died without killing it
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	st, err := openChildStore(cfg)
	require.NoError(t, err)
	gcfg, err := childGatewayConfig(cfg, st)
	require.NoError(t, err)
	gw, err := gateway.New(gcfg)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	fmt.Printf("%shttp://%s\n", readyPrefix, ln.Addr())
	srv := &http.Server{Handler: gw.Handler(), ReadHeaderTimeout: 10 * time.Second}
	t.Fatal(srv.Serve(ln)) // until killed
}

func openChildStore(cfg childConfig) (store.Store, error) {
	sc := store.Config{MaxOutbox: cfg.MaxOutbox, FullRetryAfter: 20 * time.Millisecond}
	if cfg.DB == "" {
		return store.NewMemory(sc) // the broken child: forgets everything at each kill
	}
	return sqlitestore.Open(cfg.DB, sqlitestore.Config{Store: sc})
}

// childGatewayConfig is a gateway on the parent's services with timeouts
// and intervals short enough for a child that lives a few hundred
// milliseconds to reconcile and replay what its predecessors left.
func childGatewayConfig(cfg childConfig, st store.Store) (gateway.Config, error) {
	hc := httpapi.ClientConfig{HTTPClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	bank, err1 := httpapi.NewBankClient(cfg.Bank, hc)
	fx, err2 := httpapi.NewFXClient(cfg.FX, hc)
	log, err3 := httpapi.NewLogClient(cfg.Log, hc)
	if err := errors.Join(err1, err2, err3); err != nil {
		return gateway.Config{}, err
	}
	return gateway.Config{Bank: bank, FX: fx, Log: log, Store: st, Instance: childInstance,
		ClaimTTL:   10 * time.Second,
		BankPolicy: gateway.BankPolicy{Timeout: time.Second},
		LogPolicy:  gateway.LogPolicy{Timeout: time.Second, ReplayInterval: 20 * time.Millisecond},
		Health:     gateway.HealthPolicy{Interval: 250 * time.Millisecond},
		// The reconciler must settle what a killed predecessor left
		// pending within the few hundred milliseconds a child lives.
		ReconcileInterval: 20 * time.Millisecond, ReconcileMaxInterval: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}, nil
}

// child is one gateway process, seen from its parent.
type child struct {
	cmd    *exec.Cmd
	ready  chan string   // its base URL, once it serves
	exited chan struct{} // closed once it has ended and been waited for
	err    error         // of Wait; read after exited is closed
}

// startChild starts bin as a child gateway, appending its stderr to
// logPath.
func startChild(bin, logPath string, cfg childConfig) (*child, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	c := &child{ready: make(chan string, 1), exited: make(chan struct{})}
	c.cmd = exec.Command(bin, "-test.run=^TestGatewayCrashChild$", "-test.timeout=10m")
	c.cmd.Env = append(os.Environ(), envGatewayChild+"="+string(raw))
	c.cmd.Stdout = &readyWriter{ready: c.ready}
	c.cmd.Stderr = logf
	if _, err := c.cmd.StdinPipe(); err != nil { // held open until Wait: the child's lifeline
		_ = logf.Close()
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, err
	}
	go func() {
		c.err = c.cmd.Wait()
		_ = logf.Close()
		close(c.exited)
	}()
	return c, nil
}

// waitReady returns the child's URL once it serves, or an error if it
// ends first or does not come up within limit (a bound against a hang, not
// a timing assertion).
func (c *child) waitReady(limit time.Duration) (string, error) {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case url := <-c.ready:
		c.ready <- url // for a later call
		return url, nil
	case <-c.exited:
		return "", fmt.Errorf("the child gateway ended before serving: %v", c.err)
	case <-timer.C:
		return "", fmt.Errorf("the child gateway did not serve within %s", limit)
	}
}

// kill sends SIGKILL (Process.Kill on Unix) and waits for the process.
func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	<-c.exited
}

// readyWriter is a child's stdout: it finds the ready line and drops the
// rest (the test framework's own output).
type readyWriter struct {
	ready chan<- string
	mu    sync.Mutex // protects the fields below
	buf   []byte
	found bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.found {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	for {
		line, rest, ok := bytes.Cut(w.buf, []byte("\n"))
		if !ok {
			return len(p), nil
		}
		w.buf = rest
		if url, ok := strings.CutPrefix(string(line), readyPrefix); ok {
			w.found, w.buf = true, nil
			w.ready <- url
			return len(p), nil
		}
	}
}

// childBinary is the program run as the child gateway. Without the race
// detector it is this test binary itself. Under -race it is this package's
// test binary built without it: SQLite, compiled from C to Go, runs many
// times slower under the detector, and a child that spends its short life
// opening the file and recovering would leave the run too few payments per
// kill. The parent (services, payers, checks) still runs under -race.
func childBinary(t *testing.T) string {
	t.Helper()
	if !raceEnabled {
		return os.Args[0]
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Logf("no go command to build a child without -race (%v): the child runs under -race", err)
		return os.Args[0]
	}
	bin := filepath.Join(t.TempDir(), "gateway-child.test")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "test", "-c", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "building the child without -race: %s", out)
	t.Logf("built the child gateway without -race in %s", time.Since(start).Round(time.Millisecond))
	return bin
}

// logTail returns the last n bytes of the file at path, for a failure
// message.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
