package storetest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/store"
)

// A payment two banks refused and a third took: the ledger names the bank
// it went to and the ones that refused it, in order, each once, and keeps
// them through the end of the claim and a reconciler's claim.
func testMarkRefused(t *testing.T, s store.Store) {
	req := request("pay-1", 1000)
	tok := claimNew(t, s, req, "gw", t0)
	require.NoError(t, s.MarkRefused(ctx, "pay-1", tok, "bank-a"))
	require.NoError(t, s.MarkStarted(ctx, "pay-1", tok, "bank-b")) // b refuses after being handed it
	require.NoError(t, s.MarkRefused(ctx, "pay-1", tok, "bank-b"))
	require.NoError(t, s.MarkRefused(ctx, "pay-1", tok, "bank-a"), "twice changes nothing")
	assert.ErrorIs(t, s.MarkRefused(ctx, "pay-1", tok, ""), store.ErrInvalid)

	got, err := s.Lookup(ctx, "pay-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"bank-a", "bank-b"}, got.Refused)
	assert.Equal(t, "bank-b", got.Bank, "the reconciler still asks the bank last handed the transfer")
	assert.Equal(t, store.Pending, got.Result.State, "a refusal changes no state")

	require.NoError(t, s.MarkStarted(ctx, "pay-1", tok, "bank-c"))
	require.NoError(t, s.Finish(ctx, "pay-1", tok, store.Result{State: store.Pending, Reason: "timeout"}, nil))
	due, err := s.DuePending(ctx, lease("rec", t0), t0, 0)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, "bank-c", due[0].Bank)
	assert.Equal(t, []string{"bank-a", "bank-b"}, due[0].Refused)
	res, err := s.Claim(ctx, req, lease("gw", t0.Add(2*ttl)))
	require.NoError(t, err)
	assert.Equal(t, []string{"bank-a", "bank-b"}, res.Record.Refused, "in the record a claim returns")

	got.Refused[0] = "mutated"
	again, err := s.Lookup(ctx, "pay-1")
	require.NoError(t, err)
	assert.Equal(t, "bank-a", again.Refused[0], "a returned record is the caller's copy")
}

func testMarkRefusedBound(t *testing.T, s store.Store) {
	tok := claimNew(t, s, request("pay-1", 1000), "gw", t0)
	for i := range store.MaxRefused {
		require.NoError(t, s.MarkRefused(ctx, "pay-1", tok, fmt.Sprintf("bank-%02d", i)))
	}
	err := s.MarkRefused(ctx, "pay-1", tok, "one-too-many")
	require.ErrorIs(t, err, store.ErrInvalid)
	assert.Contains(t, err.Error(), "one-too-many")
	require.NoError(t, s.MarkRefused(ctx, "pay-1", tok, "bank-00"), "a bank listed already is no new refusal")
	got, err := s.Lookup(ctx, "pay-1")
	require.NoError(t, err)
	assert.Len(t, got.Refused, store.MaxRefused)
}

// A payment every bank refused is Rejected, not attempted: retried, it
// starts afresh, and the banks that refused the last attempt may take it.
func testRefusalsResetOnRetry(t *testing.T, s store.Store) {
	req := request("pay-1", 1000)
	tok := claimNew(t, s, req, "gw", t0)
	require.NoError(t, s.MarkRefused(ctx, "pay-1", tok, "bank-a"))
	require.NoError(t, s.Finish(ctx, "pay-1", tok, store.Result{State: store.Rejected, Reason: "every bank refused"}, nil))
	got, err := s.Lookup(ctx, "pay-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"bank-a"}, got.Refused, "the answer keeps who refused it")

	res, err := s.Claim(ctx, req, lease("gw", t0))
	require.NoError(t, err)
	require.Equal(t, store.Claimed, res.Status)
	assert.Empty(t, res.Record.Refused)
	got, err = s.Lookup(ctx, "pay-1")
	require.NoError(t, err)
	assert.Empty(t, got.Refused)
}
