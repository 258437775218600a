package store_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/payments/store/storetest"
	"github.com/riprap-go/riprap/resilience"
)

func TestMemoryConforms(t *testing.T) {
	storetest.Run(t, func(t *testing.T, cfg store.Config) store.Store {
		m, err := store.NewMemory(cfg)
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, m.Close()) })
		return m
	})
}

func TestNewMemoryRefusesBadConfig(t *testing.T) {
	for field, cfg := range map[string]store.Config{
		"MaxOutbox":      {MaxOutbox: -1},
		"FullRetryAfter": {FullRetryAfter: -1},
	} {
		_, err := store.NewMemory(cfg)
		var ce *resilience.ConfigError
		require.True(t, errors.As(err, &ce), field)
		assert.Equal(t, "store", ce.Component)
		assert.Equal(t, field, ce.Field)
		assert.Equal(t, "must not be negative", ce.Rule)
	}
}
