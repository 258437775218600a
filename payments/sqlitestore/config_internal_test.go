package sqlitestore

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTheDSNCarriesTheDurabilitySettings(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want []string
	}{
		{Config{}, []string{"synchronous(FULL)", "busy_timeout(5000)", "foreign_keys(1)"}},
		{Config{Sync: SyncNormal, BusyTimeout: time.Second, MaxBytes: 1 << 20}, []string{"synchronous(NORMAL)", "busy_timeout(1000)", "max_page_count(256)"}},
	} {
		cfg, err := tc.cfg.resolve()
		require.NoError(t, err)
		dsn, err := cfg.dsn("/data/gateway.db", false)
		require.NoError(t, err)
		path, query, _ := strings.Cut(dsn, "?")
		assert.Equal(t, "/data/gateway.db", path)
		q, err := url.ParseQuery(query)
		require.NoError(t, err)
		for _, w := range tc.want {
			assert.Contains(t, q["_pragma"], w)
		}
		assert.Equal(t, "immediate", q.Get("_txlock"), "writes take the lock when they begin")
		ro, err := cfg.dsn("/data/gateway.db", true)
		require.NoError(t, err)
		assert.Contains(t, ro, "query_only")
	}
}
