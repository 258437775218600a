package sqlitestore_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/sqlitestore"
	"github.com/riprap-go/riprap/payments/store"
)

// A machine losing power mid-run leaves the files as they are: the
// database, and a write-ahead log never checkpointed. Everything committed
// must be found there.
func TestCommittedWritesSurviveACrashWithoutCheckpoint(t *testing.T) {
	s, path := open(t, sqlitestore.Config{})
	for i := range 50 {
		pay(t, s, i)
	}
	info, err := os.Stat(path + "-wal")
	require.NoError(t, err)
	require.Positive(t, info.Size(), "the writes are in the log, not yet in the file")

	crashed := copyFiles(t, path)
	s2, err := sqlitestore.Open(crashed, sqlitestore.Config{})
	require.NoError(t, err)
	defer s2.Close()

	assert.Equal(t, 50, present(t, s2, 50))
	next, err := s2.Next(ctx, lease("gw"), 0)
	require.NoError(t, err)
	assert.Len(t, next, 50, "every log entry too")
}

func TestATornLogTailLosesOnlyTheWriteBeingWritten(t *testing.T) {
	s, path := open(t, sqlitestore.Config{})
	for i := range 20 {
		pay(t, s, i)
	}
	crashed := copyFiles(t, path)
	info, err := os.Stat(crashed + "-wal")
	require.NoError(t, err)
	require.NoError(t, os.Truncate(crashed+"-wal", info.Size()-100)) // the last frame half written

	s2, err := sqlitestore.Open(crashed, sqlitestore.Config{})
	require.NoError(t, err)
	defer s2.Close()

	if present(t, s2, 20) == 20 {
		return
	}
	assert.Equal(t, 19, present(t, s2, 20), "only the last write, torn, is lost")
	last, err := s2.Lookup(ctx, request(19).IdempotencyKey)
	require.NoError(t, err)
	assert.Equal(t, store.Pending, last.Result.State, "and the payment it finished is pending, not forgotten")
	assert.True(t, last.Started)
}

func TestOpenRefusesALogDamagedBeforeCommittedWrites(t *testing.T) {
	s, path := open(t, sqlitestore.Config{})
	for i := range 20 {
		pay(t, s, i)
	}
	crashed := copyFiles(t, path)
	overwrite(t, crashed+"-wal", 32+24+100, []byte{0xde, 0xad}) // in the first frame's page

	_, err := sqlitestore.Open(crashed, sqlitestore.Config{})

	require.ErrorIs(t, err, store.ErrDamaged)
	assert.Contains(t, err.Error(), "committed transactions follow")
	b, err := os.ReadFile(crashed + "-wal")
	require.NoError(t, err)
	assert.Equal(t, []byte{0xde, 0xad}, b[32+24+100:32+24+102], "the files are left as they were")
}

// TestCrashChild is the process killed by
// TestCommittedWritesSurviveSIGKILL. Like a restarted gateway it frees its
// previous run's claims and settles what that run left pending, then pays
// until killed, printing the number of each payment once Finish returned.
func TestCrashChild(t *testing.T) {
	path := os.Getenv("SQLITESTORE_CRASH_DB")
	if path == "" {
		t.Skip("run by TestCommittedWritesSurviveSIGKILL")
	}
	s, err := sqlitestore.Open(path, sqlitestore.Config{})
	require.NoError(t, err)
	_, err = s.Expire(ctx, "gw")
	require.NoError(t, err)
	due, err := s.DuePending(ctx, lease("gw"), t0, 0)
	require.NoError(t, err)
	for _, rec := range due { // the bank, asked, says it moved the money
		require.NoError(t, s.Finish(ctx, rec.Key(), rec.Claim.Token, success, entryOf(rec.Request)))
	}
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	for i := st.Payments[store.Succeeded]; ; i++ {
		pay(t, s, i)
		fmt.Println(i)
	}
}

func TestCommittedWritesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	path := t.TempDir() + "/gateway.db"
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), "SQLITESTORE_CRASH_DB="+path)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		lines := bufio.NewScanner(out)
		last := -1
		for lines.Scan() && last < 30*(round+1) {
			if n, err := strconv.Atoi(lines.Text()); err == nil {
				last = n
			}
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		require.GreaterOrEqual(t, last, 0, "the child reported progress")

		s, err := sqlitestore.Open(path, sqlitestore.Config{})
		require.NoError(t, err)
		assert.GreaterOrEqual(t, present(t, s, last+1), last+1, "round %d: every payment reported done survives", round)
		st, err := s.Stats(ctx)
		require.NoError(t, err)
		assert.Empty(t, st.Problems)
		require.NoError(t, s.Close())
	}
}
