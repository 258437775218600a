package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

func runLedger(t *testing.T, open Factory) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"ClaimNew", testClaimNew},
		{"ClaimRefusesBadInput", testClaimRefusesBadInput},
		{"ClaimConflict", testClaimConflict},
		{"ClaimInFlight", testClaimInFlight},
		{"ClaimTakesOverAnExpiredClaim", testClaimTakeover},
		{"ClaimReplaysAnswers", testClaimReplays},
		{"ClaimRetriesARejectedPayment", testClaimRetriesRejected},
		{"SaveSettlementKeepsTheFirst", testSettlementKeepsFirst},
		{"StartedPaymentSurvivesItsClaimant", testStartedSurvives},
		{"FinishQueuesTheEntryInTheSameWrite", testFinishQueues},
		{"FinishRefusesBadInputAndChangesNothing", testFinishRefuses},
		{"WritesNeedTheCurrentToken", testStaleTokens},
		{"MarkRefusedListsEachBankOnceInOrder", testMarkRefused},
		{"MarkRefusedIsBounded", testMarkRefusedBound},
		{"ARetriedRejectedPaymentForgetsItsRefusals", testRefusalsResetOnRetry},
		{"PostponeAndDuePending", testPostponeAndDue},
		{"DuePendingTakesOrphansAndSkipsLiveClaims", testDueOrphans},
		{"Expire", testExpire},
		{"Closed", testClosed},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t, store.Config{})) })
	}
}

func testClaimNew(t *testing.T, s store.Store) {
	req := request("pay-1", 1250)
	res, err := s.Claim(ctx, req, lease("gw", t0))
	require.NoError(t, err)
	assert.Equal(t, store.Claimed, res.Status)
	assert.False(t, res.TakenOver)
	assert.Equal(t, req, res.Record.Request)
	assert.Equal(t, store.Claim{Token: res.Record.Claim.Token, Owner: "gw", Expires: t0.Add(ttl)}, res.Record.Claim)

	got, err := s.Lookup(ctx, "pay-1")
	require.NoError(t, err)
	assert.Equal(t, res.Record, got)
	assert.Equal(t, store.State(""), got.Result.State)
	_, err = s.Lookup(ctx, "pay-unknown")
	assert.ErrorIs(t, err, store.ErrNotFound)
	st := stats(t, s)
	assert.Equal(t, 1, st.Open)
	assert.Equal(t, 1, st.Reserved)
	assert.Equal(t, 1, st.Claimed)
}

func testClaimRefusesBadInput(t *testing.T, s store.Store) {
	_, err := s.Claim(ctx, payments.PaymentRequest{IdempotencyKey: "pay-1"}, lease("gw", t0))
	assert.ErrorIs(t, err, store.ErrInvalid)
	_, err = s.Claim(ctx, request("pay-1", 1), store.Lease{Owner: "", Now: t0, TTL: ttl})
	assert.ErrorIs(t, err, store.ErrInvalid)
	_, err = s.Claim(ctx, request("pay-1", 1), store.Lease{Owner: "gw", Now: t0})
	assert.ErrorIs(t, err, store.ErrInvalid)
	_, err = s.Lookup(ctx, "pay-1")
	assert.ErrorIs(t, err, store.ErrNotFound, "nothing stored")
}

func testClaimConflict(t *testing.T, s store.Store) {
	req := request("pay-1", 1250)
	claimNew(t, s, req, "gw", t0)
	other := request("pay-1", 9999)
	res, err := s.Claim(ctx, other, lease("gw", t0))
	require.NoError(t, err)
	assert.Equal(t, store.Conflict, res.Status)
	assert.Equal(t, req, res.Record.Request, "the stored request, unchanged")
}

func testClaimInFlight(t *testing.T, s store.Store) {
	req := request("pay-1", 1250)
	tok := claimNew(t, s, req, "gw-a", t0)
	res, err := s.Claim(ctx, req, lease("gw-b", t0.Add(ttl-1)))
	require.NoError(t, err)
	assert.Equal(t, store.InFlight, res.Status)
	assert.Equal(t, tok, res.Record.Claim.Token)
}

func testClaimTakeover(t *testing.T, s store.Store) {
	req := request("pay-1", 1250)
	old := claimNew(t, s, req, "gw-a", t0)
	require.NoError(t, s.SaveSettlement(ctx, "pay-1", old, payments.New(1250, payments.USD), nil))

	res, err := s.Claim(ctx, req, lease("gw-b", t0.Add(ttl)))
	require.NoError(t, err)
	assert.Equal(t, store.Claimed, res.Status)
	assert.True(t, res.TakenOver)
	assert.NotEqual(t, old, res.Record.Claim.Token)
	assert.Equal(t, payments.New(1250, payments.USD), res.Record.Settled, "the settlement survives")
	assert.ErrorIs(t, s.MarkStarted(ctx, "pay-1", old, "bank"), store.ErrClaimLost, "the old claimant is fenced off")
	assert.ErrorIs(t, s.Finish(ctx, "pay-1", old, succeeded("t"), nil), store.ErrClaimLost)
}

func testClaimReplays(t *testing.T, s store.Store) {
	for i, r := range []store.Result{
		succeeded("tr-1"),
		{State: store.Declined, Reason: "insufficient funds", Error: "payments: declined: insufficient funds"},
		{State: store.Pending, Reason: "outcome unknown"},
	} {
		req := request(key(i), 100)
		tok := claimNew(t, s, req, "gw", t0)
		require.NoError(t, s.Finish(ctx, req.IdempotencyKey, tok, r, nil))
		res, err := s.Claim(ctx, req, lease("gw", t0.Add(time.Hour)))
		require.NoError(t, err)
		assert.Equal(t, store.Replayed, res.Status, "state %s", r.State)
		assert.Equal(t, r, res.Record.Result)
		assert.False(t, res.Record.Claim.Held())
	}
}

func testClaimRetriesRejected(t *testing.T, s store.Store) {
	req := request("pay-1", 1250)
	tok := claimNew(t, s, req, "gw", t0)
	quote := &payments.Quote{From: payments.USD, To: payments.EUR, Rate: payments.MustParseRate("0.9"), AsOf: t0}
	require.NoError(t, s.SaveSettlement(ctx, "pay-1", tok, payments.New(1125, payments.EUR), quote))
	require.NoError(t, s.Finish(ctx, "pay-1", tok, store.Result{State: store.Rejected, Reason: "breaker open", RetryAfter: time.Second}, nil))

	res, err := s.Claim(ctx, req, lease("gw", t0.Add(time.Second)))
	require.NoError(t, err)
	assert.Equal(t, store.Claimed, res.Status)
	assert.Equal(t, store.Result{}, res.Record.Result, "the rejection is superseded")
	assert.Equal(t, payments.New(1125, payments.EUR), res.Record.Settled, "the first settlement stays")
	assert.Equal(t, quote, res.Record.Quote)
	assert.Equal(t, 1, stats(t, s).Open)
}
