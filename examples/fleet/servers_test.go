package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for creating and dropping the test's schema
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitFor bounds every wait on something that happens over a real socket
// or in another process. It guards against a hang; it asserts nothing.
const waitFor = 20 * time.Second

// required reports whether a missing server must fail the test rather
// than skip it (CI sets RIPRAP_REQUIRE_SERVERS=1, so it cannot go green by
// skipping).
func required() bool { return os.Getenv("RIPRAP_REQUIRE_SERVERS") == "1" }

// skipOrFail skips t with why, or fails it when servers are required.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if required() {
		t.Fatal("RIPRAP_REQUIRE_SERVERS=1: " + why)
	}
	t.Skip(why)
}

// envServer returns the environment variable name's value, or skips (or
// fails) t saying what to start.
func envServer(t *testing.T, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		skipOrFail(t, "examples/fleet: "+name+" is unset: start "+what+" on loopback and set it (see .ci/run)")
	}
	return v
}

// newSchema creates a fresh schema in the PostgreSQL at dsn and drops it,
// with everything in it, when t ends.
func newSchema(t *testing.T, dsn string) string {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "fleet_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		_, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		assert.NoError(t, err)
	})
	return schema
}

// newPrefix returns a Redis key prefix no other run shares, so that runs
// against one server (CI's) do not see each other's fleets.
func newPrefix(name string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "riprap:test:" + name + ":" + hex.EncodeToString(b[:]) + ":"
}

// redisProc is a redis-server of the test's own, which it can kill and
// start again on the same port.
type redisProc struct {
	bin, dir string
	port     int
	cmd      *exec.Cmd
	exited   chan struct{}
}

// startRedis starts a redis-server on a free loopback port, stopped by
// its PID when t ends; it skips (or fails) t without the binary.
func startRedis(t *testing.T) *redisProc {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		skipOrFail(t, "examples/fleet: redis-server is not installed: this test kills and restarts a Redis of its own")
	}
	port, err := freePort()
	require.NoError(t, err)
	r := &redisProc{bin: bin, dir: t.TempDir(), port: port}
	require.NoError(t, r.start())
	t.Cleanup(r.kill)
	return r
}

// Addr is the server's address.
func (r *redisProc) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// start runs the server and waits until it answers PING.
func (r *redisProc) start() error {
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", r.dir)
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the test binary
	logf, err := os.OpenFile(filepath.Join(r.dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		_ = logf.Close()
		return err
	}
	r.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		_ = cmd.Wait()
		_ = logf.Close()
		close(exited)
	}(r.cmd, r.exited)
	return r.waitReady()
}

// waitReady polls the server until it answers. Real sockets: nothing is
// asserted about how long it takes.
func (r *redisProc) waitReady() error {
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(waitFor)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL to the server, by its PID, and waits for it.
func (r *redisProc) kill() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.exited
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
