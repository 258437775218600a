package sqlitestore_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/sqlitestore"
	"github.com/riprap-go/riprap/payments/store"
)

// closedStore makes a store holding n succeeded payments and closes it
// (SQLite checkpoints: everything is in the main file).
func closedStore(t *testing.T, n int) string {
	t.Helper()
	s, path := open(t, sqlitestore.Config{})
	for i := range n {
		pay(t, s, i)
	}
	require.NoError(t, s.Close())
	return path
}

func overwrite(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(b, off)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func garbage(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*131 + 7)
	}
	return b
}

func TestOpenRefusesAFileWhoseHeaderIsGarbage(t *testing.T) {
	path := closedStore(t, 20)
	overwrite(t, path, 0, garbage(100))

	_, err := sqlitestore.Open(path, sqlitestore.Config{})

	require.ErrorIs(t, err, store.ErrDamaged)
	assert.Contains(t, err.Error(), "not a SQLite database")
	assert.Contains(t, err.Error(), path)
}

func TestOpenRefusesAFileWithGarbagePages(t *testing.T) {
	path := closedStore(t, 200)
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Greater(t, info.Size(), int64(4*4096))
	overwrite(t, path, 2*4096, garbage(int(info.Size())-2*4096)) // every page but the first

	_, err = sqlitestore.Open(path, sqlitestore.Config{})

	require.ErrorIs(t, err, store.ErrDamaged)
	assert.Contains(t, err.Error(), path)
}

func TestADamagedRowIsReportedAndKeptNotDropped(t *testing.T) {
	path := closedStore(t, 3)
	// Bit rot in one row's content, behind the store's back.
	_, err := raw(t, path, "").ExecContext(ctx, "UPDATE payments SET payee = 'acct_mallory01' WHERE key = ?",
		request(1).IdempotencyKey)
	require.NoError(t, err)

	s, err := sqlitestore.Open(path, sqlitestore.Config{})
	require.NoError(t, err, "one damaged row does not stop the store")
	defer s.Close()

	st, err := s.Stats(ctx)
	require.NoError(t, err)
	require.Len(t, st.Problems, 1)
	assert.Contains(t, st.Problems[0], request(1).IdempotencyKey)
	assert.Contains(t, st.Problems[0], "checksum")
	_, err = s.Lookup(ctx, request(1).IdempotencyKey)
	assert.ErrorIs(t, err, store.ErrDamaged)
	_, err = s.Claim(ctx, request(1), lease("gw"))
	assert.ErrorIs(t, err, store.ErrDamaged, "never answered from a record that cannot be trusted")
	assert.Equal(t, 2, present(t, s, 3), "the others are intact")
	var rows int
	require.NoError(t, raw(t, path, "").QueryRowContext(ctx, "SELECT count(*) FROM payments").Scan(&rows))
	assert.Equal(t, 3, rows, "the damaged row is still in the file")
}

func TestRunTimeCorruptionMakesTheStoreRefuseClaims(t *testing.T) {
	s, path := open(t, sqlitestore.Config{})
	for i := range 200 {
		pay(t, s, i)
	}
	// Force the rows out of the log into the file, then ruin the file
	// under the running store.
	_, err := raw(t, path, "").ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	require.NoError(t, err)
	info, err := os.Stat(path)
	require.NoError(t, err)
	overwrite(t, path, 2*4096, garbage(int(info.Size())-2*4096))

	var damaged error
	for i := range 200 {
		if _, err := s.Claim(ctx, request(i), lease("gw")); err != nil {
			damaged = err
			break
		}
	}
	require.ErrorIs(t, damaged, store.ErrDamaged)
	_, err = s.Claim(ctx, request(10_000), lease("gw"))
	assert.ErrorIs(t, err, store.ErrDamaged, "every later claim is refused")
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, st.Problems)
}
