package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/gateway"
)

// envNode carries a nodeConfig, as JSON, to the process TestFleetNode
// turns into a gateway of the fleet.
const envNode = "RIPRAP_FLEET_NODE"

// TestFleetNode is not a test of its own: it is the gateway process the
// fleet tests start, several times over, and kill. It serves until
// SIGTERM, SIGKILL, or its parent going away (its stdin closes).
func TestFleetNode(t *testing.T) {
	raw := os.Getenv(envNode)
	if raw == "" {
		t.Skip("a gateway process of the fleet tests; runs only as their child")
	}
	var cfg nodeConfig
	require.NoError(t, json.Unmarshal([]byte(raw), &cfg))
	go func() { // an orphan must not outlive a parent that died without stopping it
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	require.NoError(t, run(ctx, cfg, os.Stdout))
}

// fleetRun is the parent's side of a run: the services, the children it
// started and every event they reported.
type fleetRun struct {
	t    *testing.T
	svc  *services
	base nodeConfig

	mu     sync.Mutex // protects events and nodes
	events []nodeEvent
	nodes  []*nodeProc
}

func newFleetRun(t *testing.T, svc *services, base nodeConfig) *fleetRun {
	base.Listen, base.Bank, base.FX, base.Log = "127.0.0.1:0", svc.bankURL, svc.fxURL, svc.logURL
	r := &fleetRun{t: t, svc: svc, base: base}
	t.Cleanup(http.DefaultClient.CloseIdleConnections) // the clients' keep-alive connections end with the test
	t.Cleanup(r.stopAll)
	return r
}

// nodeProc is one gateway process, seen from its parent.
type nodeProc struct {
	name   string
	cmd    *exec.Cmd
	stderr string // the file its stderr goes to
	url    string
	client *gateway.Client
	ready  chan string
	exited chan struct{} // closed once it ended and was waited for
	err    error         // of Wait; read after exited is closed
}

// start starts the children named, each with the base configuration
// adjusted by tweak (when not nil), and waits until they all serve.
func (r *fleetRun) start(tweak func(*nodeConfig), names ...string) []*nodeProc {
	r.t.Helper()
	procs := make([]*nodeProc, len(names))
	for i, name := range names {
		cfg := r.base
		cfg.Instance = name
		if tweak != nil {
			tweak(&cfg)
		}
		p, err := r.spawn(cfg)
		require.NoError(r.t, err)
		procs[i] = p
	}
	for _, p := range procs {
		select {
		case url := <-p.ready:
			p.url = url
			var err error
			p.client, err = gateway.NewClient(url, nil)
			require.NoError(r.t, err)
		case <-p.exited:
			r.t.Fatalf("node %s ended before serving (%v):\n%s", p.name, p.err, logTail(p.stderr, 3000))
		case <-time.After(waitFor):
			r.t.Fatalf("node %s did not serve within %s:\n%s", p.name, waitFor, logTail(p.stderr, 3000))
		}
	}
	return procs
}

// spawn starts this test binary as a node with cfg.
func (r *fleetRun) spawn(cfg nodeConfig) (*nodeProc, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	p := &nodeProc{name: cfg.Instance, stderr: filepath.Join(r.t.TempDir(), cfg.Instance+".log"),
		ready: make(chan string, 1), exited: make(chan struct{})}
	logf, err := os.Create(p.stderr)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(childBinary(r.t), "-test.run=^TestFleetNode$", "-test.timeout=10m")
	p.cmd.Env = append(os.Environ(), envNode+"="+string(raw))
	p.cmd.Stderr = logf
	out, err1 := p.cmd.StdoutPipe()
	_, err2 := p.cmd.StdinPipe() // held open until Wait: the child's lifeline
	if err := firstErr(err1, err2, p.cmd.Start()); err != nil {
		_ = logf.Close()
		return nil, err
	}
	r.mu.Lock()
	r.nodes = append(r.nodes, p)
	r.mu.Unlock()
	go func() {
		r.read(p, out, logf)
		p.err = p.cmd.Wait()
		_ = logf.Close()
		close(p.exited)
	}()
	return p, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// read takes a child's stdout line by line until it ends: its URL, and
// its events; the rest (the test framework's own output, such as a
// failure) goes to its log.
func (r *fleetRun) read(p *nodeProc, out io.Reader, log io.Writer) {
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if url, ok := strings.CutPrefix(line, readyPrefix); ok {
			p.ready <- url
			continue
		}
		raw, ok := strings.CutPrefix(line, eventPrefix)
		var e nodeEvent
		if !ok || json.Unmarshal([]byte(raw), &e) != nil {
			_, _ = fmt.Fprintln(log, line)
			continue
		}
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, out)
}

// breakerEvents returns the bank-breaker events reported since since.
func (r *fleetRun) breakerEvents(since time.Time) []nodeEvent {
	return r.eventsOf("breaker", since)
}

func (r *fleetRun) eventsOf(policy string, since time.Time) []nodeEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []nodeEvent
	for _, e := range r.events {
		if e.Policy == policy && !e.when().Before(since) {
			out = append(out, e)
		}
	}
	return out
}

// state returns the latest state a node reported for policy ("closed"
// or "connecting" when it reported none).
func (r *fleetRun) state(policy, instance string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	state := map[string]string{"breaker": "closed", "riprapredis": "connecting"}[policy]
	for _, e := range r.events {
		if e.Policy == policy && e.Instance == instance {
			state = e.To
		}
	}
	return state
}

// waitState waits until every node named reports state for policy.
func (r *fleetRun) waitState(policy, state string, nodes ...*nodeProc) {
	r.t.Helper()
	require.Eventually(r.t, func() bool {
		for _, p := range nodes {
			if r.state(policy, p.name) != state {
				return false
			}
		}
		return true
	}, waitFor, 10*time.Millisecond, "every node's %s reports %s", policy, state)
}

// stop ends a node with SIGTERM (SIGKILL if it lingers) and waits for it.
func (p *nodeProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(waitFor):
		p.kill()
	}
}

// kill sends SIGKILL to the node, by its PID, and waits for it.
func (p *nodeProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// alive reports whether the node is still running.
func (p *nodeProc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stopAll stops every node still running, and reports a node that
// panicked.
func (r *fleetRun) stopAll() {
	r.mu.Lock()
	nodes := append([]*nodeProc(nil), r.nodes...)
	r.mu.Unlock()
	for _, p := range nodes {
		p.stop()
	}
	for _, p := range nodes {
		if tail := logTail(p.stderr, 1<<20); strings.Contains(tail, "panic:") || strings.Contains(tail, "DATA RACE") {
			r.t.Errorf("node %s panicked or raced:\n%s", p.name, logTail(p.stderr, 4000))
		}
	}
}

// logTail returns the last n bytes of the file at path.
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

func (p *nodeProc) String() string { return fmt.Sprintf("%s (%s)", p.name, p.url) }
