package sqlitestore_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/riprap-go/riprap/payments/sqlitestore"
)

// tryReadOnly opens the store at path, which it may not write, and tries
// to claim a payment; it reports what refused, in words.
func tryReadOnly(path string) string {
	s, err := sqlitestore.Open(path, sqlitestore.Config{})
	if err != nil {
		return "open refused: " + err.Error()
	}
	defer s.Close()
	if _, err := s.Claim(ctx, request(99), lease("gw")); err != nil {
		return fmt.Sprintf("claim refused (code %d): %v", sqlitestore.Code(err), err)
	}
	return "claim accepted"
}

// TestReadOnlyChild runs tryReadOnly as an unprivileged user for
// TestAReadOnlyFileRefusesClaims (root may write any file).
func TestReadOnlyChild(t *testing.T) {
	path := os.Getenv("SQLITESTORE_READONLY_DB")
	if path == "" {
		t.Skip("run by TestAReadOnlyFileRefusesClaims")
	}
	fmt.Println(tryReadOnly(path))
}

func TestAReadOnlyFileRefusesClaims(t *testing.T) {
	if testing.Short() {
		t.Skip("may start a process")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "gateway.db")
	s, err := sqlitestore.Open(path, sqlitestore.Config{})
	require.NoError(t, err)
	pay(t, s, 0)
	require.NoError(t, s.Close())
	require.NoError(t, os.Chmod(path, 0o444))

	var got string
	if os.Geteuid() != 0 {
		require.NoError(t, os.Chmod(dir, 0o555))
		defer func() { _ = os.Chmod(dir, 0o755) }()
		got = tryReadOnly(path)
	} else {
		got = asNobody(t, dir, path)
	}

	t.Log(got)
	assert.NotEqual(t, "claim accepted", got)
	switch {
	case strings.HasPrefix(got, "open refused"):
		assert.Contains(t, got, path, "the error names the file")
	default:
		assert.Contains(t, got, fmt.Sprintf("code %d", sqlite3.SQLITE_READONLY))
	}
}

// asNobody runs TestReadOnlyChild as user nobody, from a copy of the test
// binary it can execute, and returns what it printed.
func asNobody(t *testing.T, dir, path string) string {
	t.Helper()
	bin := filepath.Join(dir, "child.test")
	copyFile(t, os.Args[0], bin)
	for _, d := range []string{dir, filepath.Dir(dir)} {
		require.NoError(t, os.Chmod(d, 0o755))
	}
	require.NoError(t, os.Chmod(bin, 0o755))
	cmd := exec.Command(bin, "-test.run=^TestReadOnlyChild$")
	cmd.Env = append(os.Environ(), "SQLITESTORE_READONLY_DB="+path, "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "refused") || strings.Contains(line, "accepted") {
			return line
		}
	}
	t.Fatalf("the child said nothing useful: %s", out)
	return ""
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	require.NoError(t, err)
	defer src.Close()
	dst, err := os.Create(to)
	require.NoError(t, err)
	_, err = io.Copy(dst, src)
	require.NoError(t, err)
	require.NoError(t, dst.Close())
}
