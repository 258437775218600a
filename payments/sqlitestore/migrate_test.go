package sqlitestore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/sqlitestore"
)

// A file of schema version 1, from before Record.Refused, opens: version 2
// adds the column, the old rows read back with their checksums intact, and
// a refusal can be recorded on a payment claimed before the upgrade.
func TestASchemaVersion1FileIsMigrated(t *testing.T) {
	s, path := open(t, sqlitestore.Config{})
	pay(t, s, 0)
	res, err := s.Claim(ctx, request(1), lease("gw"))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	old := raw(t, path, "")
	for _, q := range []string{"ALTER TABLE payments DROP COLUMN refused", "DELETE FROM schema_version WHERE version = 2"} {
		_, err := old.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	require.NoError(t, old.Close())

	again, err := sqlitestore.Open(path, sqlitestore.Config{})
	require.NoError(t, err)
	defer again.Close()
	st, err := again.Stats(ctx)
	require.NoError(t, err)
	assert.Empty(t, st.Problems, "every row's checksum holds")
	assert.Equal(t, 1, present(t, again, 1))
	key := request(1).IdempotencyKey
	require.NoError(t, again.MarkRefused(ctx, key, res.Record.Claim.Token, "bank-a"))
	rec, err := again.Lookup(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, []string{"bank-a"}, rec.Refused)
	var v int
	require.NoError(t, raw(t, path, "").QueryRowContext(ctx, "SELECT max(version) FROM schema_version").Scan(&v))
	assert.Equal(t, 2, v)
}
