package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// child is the program run as a gateway process, built once per test
// binary.
var child struct {
	once sync.Once
	bin  string
	err  error
	dir  string
}

// childBinary is the program the tests run as gateway processes. Without
// the race detector it is this test binary itself. Under -race it is this
// package's test binary built without it: the detector slows a process
// down several times over, and three of them on a shared two-core machine
// would measure the detector's cost rather than the fleet's latency. The
// gateway, the store and the Redis fleet logic are tested under -race in
// their own packages; the parent here (services, clients, checks) still
// runs under it.
func childBinary(t *testing.T) string {
	t.Helper()
	if !raceEnabled {
		return os.Args[0]
	}
	child.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			child.bin = os.Args[0]
			return
		}
		if child.dir, child.err = os.MkdirTemp("", "fleet-node-"); child.err != nil {
			return
		}
		bin := filepath.Join(child.dir, "fleet-node.test")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool, "test", "-c", "-o", bin, ".")
		cmd.Env = append(os.Environ(), "GOFLAGS=")
		var out []byte
		if out, child.err = cmd.CombinedOutput(); child.err != nil {
			child.err = &buildError{err: child.err, out: string(out)}
			return
		}
		child.bin = bin
	})
	if child.err != nil {
		t.Fatalf("building the gateway process without -race: %v", child.err)
	}
	return child.bin
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

func TestMain(m *testing.M) {
	code := m.Run()
	if child.dir != "" {
		_ = os.RemoveAll(child.dir)
	}
	os.Exit(code)
}
