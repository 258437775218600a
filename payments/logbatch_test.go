package payments_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
)

func TestAppendEach(t *testing.T) {
	var seen []string
	appendOne := func(_ context.Context, e payments.Entry) error {
		seen = append(seen, e.PaymentID)
		if e.PaymentID == "bad" {
			return payments.ErrIdempotencyConflict
		}
		return nil
	}
	entries := []payments.Entry{{PaymentID: "a"}, {PaymentID: "bad"}, {PaymentID: "c"}}
	results, err := payments.AppendEach(context.Background(), appendOne, entries)
	require.NoError(t, err)
	assert.Equal(t, []error{nil, payments.ErrIdempotencyConflict, nil}, results)
	assert.Equal(t, []string{"a", "bad", "c"}, seen, "in order, one bad entry holding up none")

	seen = nil
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	results, err = payments.AppendEach(ctx, appendOne, entries)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, results)
	assert.Empty(t, seen)

	results, err = payments.AppendEach(context.Background(), appendOne, make([]payments.Entry, payments.MaxLogBatch+1))
	assert.ErrorIs(t, err, payments.ErrBatchTooLarge)
	assert.ErrorContains(t, err, "501 entries, at most 500")
	assert.Nil(t, results)
	assert.NoError(t, payments.CheckBatch(make([]payments.Entry, payments.MaxLogBatch)))
}
