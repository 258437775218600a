package backoff_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/backoff"
)

func TestBudgetSpenderGrantsButDoesNotCount(t *testing.T) {
	budget, err := backoff.NewBudget(backoff.BudgetConfig{MinPerSecond: 1})
	require.NoError(t, err)
	s := budget.Spender()
	s.Request()
	assert.True(t, s.AllowRetry())
	snap := budget.Snapshot()
	assert.Equal(t, int64(0), snap.Requests)
	assert.Equal(t, int64(1), snap.Retries)
	assert.False(t, backoff.BudgetSpender{}.AllowRetry(), "the zero spender grants nothing")
}
