// Package redistest starts throw-away redis-server processes for tests: one
// per test, on a loopback port chosen at run time, with no persistence, and
// stopped by PID when the test ends.
//
// The binary is $RIPRAP_REDIS_SERVER_BIN or redis-server on PATH. When it is
// missing the test is skipped with a message saying how to install it,
// unless RIPRAP_REQUIRE_SERVERS=1 (CI sets it), which turns the skip into a
// failure so that CI cannot go green by skipping.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// readyTimeout bounds how long a server may take to say it is ready.
const readyTimeout = 15 * time.Second

// Server is one redis-server process owned by a test. Kill and Restart
// simulate an outage; the port stays the same, so clients reconnect to the
// new process. Build one with [Start]; the zero value is not usable. A
// Server is safe for concurrent use.
type Server struct {
	t    testing.TB
	bin  string
	port int
	// Addr is "127.0.0.1:port", for redis.Options.Addr.
	Addr string

	mu   sync.Mutex // protects proc
	proc *process
}

// process is one run of the binary.
type process struct {
	cmd     *exec.Cmd
	output  strings.Builder // protected by Server.mu after ready
	drained chan struct{}   // closed when stdout reaches EOF
}

// Binary returns the redis-server binary, or skips (or, under
// RIPRAP_REQUIRE_SERVERS=1, fails) t when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("RIPRAP_REDIS_SERVER_BIN"); bin != "" {
		return bin
	}
	bin, err := exec.LookPath("redis-server")
	if err == nil {
		return bin
	}
	msg := "redis-server not found (set RIPRAP_REDIS_SERVER_BIN or install it: apt-get install redis-server)"
	if os.Getenv("RIPRAP_REQUIRE_SERVERS") == "1" {
		t.Fatal(msg + "; RIPRAP_REQUIRE_SERVERS=1 forbids skipping")
	}
	t.Skip(msg)
	return ""
}

// Start runs a redis-server on a free loopback port and waits until it
// accepts connections. The process is killed and reaped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, bin: Binary(t)}
	var err error
	for range 3 { // a port found free may be taken before the server binds it
		if s.port, err = freePort(); err != nil {
			continue
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("redistest: start redis-server: %v", err)
	}
	t.Cleanup(s.Kill)
	return s
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start launches the binary and reads its log until it is ready: no
// polling, no sleeping.
func (s *Server) start() error {
	cmd := exec.Command(s.bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "notice")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &process{cmd: cmd, drained: make(chan struct{})}
	ready := make(chan bool, 1)
	go p.read(out, ready, &s.mu)
	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case ok := <-ready:
		if ok {
			s.mu.Lock()
			s.proc = p
			s.mu.Unlock()
			return nil
		}
	case <-timer.C:
	}
	_ = cmd.Process.Kill()
	<-p.drained
	_ = cmd.Wait()
	s.mu.Lock()
	log := p.output.String()
	s.mu.Unlock()
	return fmt.Errorf("not ready on port %d; log:\n%s", s.port, log)
}

// read keeps the server's log, reports readiness (or EOF before it) once,
// and drains the pipe until the process exits.
func (p *process) read(out io.Reader, ready chan<- bool, mu *sync.Mutex) {
	defer close(p.drained)
	sc := bufio.NewScanner(out)
	said := false
	for sc.Scan() {
		line := sc.Text()
		mu.Lock()
		if p.output.Len() < 64<<10 {
			p.output.WriteString(line + "\n")
		}
		mu.Unlock()
		if !said && strings.Contains(line, "Ready to accept connections") {
			said = true
			ready <- true
		}
	}
	_, _ = io.Copy(io.Discard, out)
	if !said {
		ready <- false
	}
}

// Kill stops the server with SIGKILL, as a crash would, and reaps it. It
// does nothing when the server is already down.
func (s *Server) Kill() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.drained
	_ = p.cmd.Wait()
}

// Restart starts a fresh, empty server on the same port after Kill.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatalf("redistest: restart redis-server: %v", err)
	}
}

// Client returns a client of the server, closed when the test ends.
// Commands time out after a second, so a test against a killed server
// fails fast instead of hanging.
func (s *Server) Client(t testing.TB) *redis.Client { return newClient(t, s.Addr) }

func newClient(t testing.TB, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr: addr, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
		MaxRetries: -1, DisableIdentity: true,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// CommandCalls reads INFO commandstats: how many times each command ran
// since the server started or since ResetStats, keyed by lower-case name.
func (s *Server) CommandCalls(ctx context.Context, c *redis.Client) (map[string]int64, error) {
	text, err := c.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	calls := map[string]int64{}
	for line := range strings.Lines(text) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		for field := range strings.SplitSeq(rest, ",") {
			if v, ok := strings.CutPrefix(field, "calls="); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				calls[strings.TrimPrefix(name, "cmdstat_")] = n
			}
		}
	}
	return calls, nil
}
