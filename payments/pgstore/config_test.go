package pgstore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/pgstore"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
)

func TestOpenRefusesBadConfig(t *testing.T) {
	const dsn = "postgres://riprap@127.0.0.1:1/postgres"
	for _, tc := range []struct {
		name  string
		cfg   pgstore.Config
		field string
	}{
		{"no DSN", pgstore.Config{}, "DSN"},
		{"bad DSN", pgstore.Config{DSN: "postgres://u:hunter2@host:notaport/db"}, "DSN"},
		{"upper-case schema", pgstore.Config{DSN: dsn, Schema: "Payments"}, "Schema"},
		{"schema needing quotes", pgstore.Config{DSN: dsn, Schema: "a;drop"}, "Schema"},
		{"long schema", pgstore.Config{DSN: dsn, Schema: strings.Repeat("s", 64)}, "Schema"},
		{"negative MaxConns", pgstore.Config{DSN: dsn, MaxConns: -1}, "MaxConns"},
		{"negative timeout", pgstore.Config{DSN: dsn, IdleInTransactionTimeout: -time.Second}, "IdleInTransactionTimeout"},
		{"negative MaxOutbox", pgstore.Config{DSN: dsn, Store: store.Config{MaxOutbox: -1}}, "MaxOutbox"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := pgstore.Open(ctx, tc.cfg)
			assert.Nil(t, s)
			var ce *resilience.ConfigError
			require.True(t, errors.As(err, &ce), "got %v", err)
			assert.Equal(t, "pgstore", ce.Component)
			assert.Equal(t, tc.field, ce.Field)
			assert.NotContains(t, err.Error(), "hunter2", "a password never reaches an error")
		})
	}
}

func TestConfigStringHidesTheDSN(t *testing.T) {
	cfg := pgstore.Config{DSN: "postgres://u:hunter2@db/x", Schema: "gw"}
	assert.NotContains(t, cfg.String(), "hunter2")
	assert.Contains(t, cfg.String(), `"gw"`)
}
