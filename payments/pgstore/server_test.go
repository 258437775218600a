package pgstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the tests' own connections
)

// The PostgreSQL server of the tests: RIPRAP_POSTGRES_DSN when set (CI
// starts one); otherwise a throwaway server started from the installed
// binaries on the first test that needs one, and stopped by TestMain.
var server struct {
	once sync.Once
	dsn  string
	skip string // why no server can be had, for t.Skip
	err  error
	cmd  *exec.Cmd
	dir  string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if admin.db != nil {
		_ = admin.db.Close()
	}
	stopServer()
	os.Exit(code)
}

// serverDSN returns the DSN of the tests' server, or skips t with the
// reason there is none; with RIPRAP_REQUIRE_SERVERS=1 and no
// RIPRAP_POSTGRES_DSN it fails t instead (CI must not go green by
// skipping).
func serverDSN(t testing.TB) string {
	t.Helper()
	if dsn := os.Getenv("RIPRAP_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	if os.Getenv("RIPRAP_REQUIRE_SERVERS") == "1" {
		t.Fatal("pgstore: RIPRAP_REQUIRE_SERVERS=1 and RIPRAP_POSTGRES_DSN is unset: start PostgreSQL and set it (see .ci/run)")
	}
	server.once.Do(startServer)
	switch {
	case server.skip != "":
		t.Skip(server.skip)
	case server.err != nil:
		t.Fatalf("pgstore: start a throwaway PostgreSQL server: %v", server.err)
	}
	return server.dsn
}

// binDir finds the newest installed PostgreSQL's binaries.
func binDir() string {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(found, func(a, b string) int { return pgVersion(a) - pgVersion(b) })
	if len(found) > 0 {
		return filepath.Dir(found[len(found)-1])
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

func pgVersion(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

// startServer runs initdb into a temporary directory and starts postgres
// on a free loopback port, as user nobody when the tests run as root
// (PostgreSQL refuses to run as root).
func startServer() {
	bin := binDir()
	if bin == "" {
		server.skip = "pgstore: no PostgreSQL server: set RIPRAP_POSTGRES_DSN, or install postgresql (initdb not found)"
		return
	}
	server.dir, server.err = os.MkdirTemp("", "pgstore-test-")
	if server.err != nil {
		return
	}
	cred, err := runAs(server.dir)
	if err != nil {
		server.err = err
		return
	}
	data := filepath.Join(server.dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "riprap", "--no-sync", "-E", "UTF8")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		server.err = fmt.Errorf("initdb: %w: %s", err, out)
		return
	}
	port, err := freePort()
	if err != nil {
		server.err = err
		return
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-h", "127.0.0.1", "-p", strconv.Itoa(port),
		"-k", server.dir, "-c", "fsync=off", "-c", "max_connections=200", "-c", "synchronous_commit=off")
	log, err := os.Create(filepath.Join(server.dir, "postgres.log"))
	if err != nil {
		server.err = err
		return
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	// SIGQUIT (immediate shutdown) if the test binary dies without
	// TestMain's cleanup, so that no server outlives it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	if server.err = cmd.Start(); server.err != nil {
		return
	}
	server.cmd = cmd
	server.dsn = fmt.Sprintf("postgres://riprap@127.0.0.1:%d/postgres?sslmode=disable", port)
	server.err = waitReady(server.dsn)
}

// runAs returns the credentials of user nobody when running as root, and
// lets nobody use dir; nil otherwise.
func runAs(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls the new server until it answers. Real sockets: no fake
// clock can stand in, and no timing is asserted.
func waitReady(dsn string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopServer stops the throwaway server by its PID (a fast shutdown) and
// removes its files.
func stopServer() {
	if server.cmd != nil {
		_ = server.cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- server.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = server.cmd.Process.Kill()
			<-done
		}
	}
	if server.dir != "" {
		_ = os.RemoveAll(server.dir)
	}
}

// admin is a plain connection pool to the tests' database, for creating
// and dropping schemas and looking behind a store's back.
var admin struct {
	once sync.Once
	db   *sql.DB
	err  error
}

func adminDB(t testing.TB) *sql.DB {
	t.Helper()
	dsn := serverDSN(t)
	admin.once.Do(func() {
		admin.db, admin.err = sql.Open("pgx", dsn)
		if admin.err == nil {
			admin.db.SetMaxOpenConns(4)
		}
	})
	if admin.err != nil {
		t.Fatal(admin.err)
	}
	return admin.db
}
