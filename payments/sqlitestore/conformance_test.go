package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/sqlitestore"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/payments/store/storetest"
)

// open opens a store in a fresh directory. The conformance runs use
// synchronous=NORMAL: they check behaviour, not fsyncs, and run many
// thousands of writes.
func open(t *testing.T, cfg sqlitestore.Config) (*sqlitestore.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gateway.db")
	s, err := sqlitestore.Open(path, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s, path
}

func TestSQLiteConforms(t *testing.T) {
	opts := storetest.Options{}
	if raceEnabled {
		opts.ModelRounds = 1 // the model's histories are long, the race detector slows SQLite ~15x
	}
	storetest.RunWith(t, func(t *testing.T, cfg store.Config) store.Store {
		s, _ := open(t, sqlitestore.Config{Store: cfg, Sync: sqlitestore.SyncNormal})
		return s
	}, opts)
}
