package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

func testSettlementKeepsFirst(t *testing.T, s store.Store) {
	tok := claimNew(t, s, request("pay-1", 1000), "gw", t0)
	q := &payments.Quote{From: payments.USD, To: payments.JPY, Rate: payments.MustParseRate("150"), AsOf: t0}
	require.NoError(t, s.SaveSettlement(ctx, "pay-1", tok, payments.New(1500, payments.JPY), q))
	require.NoError(t, s.SaveSettlement(ctx, "pay-1", tok, payments.New(9999, payments.JPY), nil))
	assert.ErrorIs(t, s.SaveSettlement(ctx, "pay-1", tok, payments.Money{}, nil), store.ErrInvalid)

	got, err := s.Lookup(ctx, "pay-1")
	require.NoError(t, err)
	settled, quote, ok := got.Settlement()
	assert.True(t, ok)
	assert.Equal(t, payments.New(1500, payments.JPY), settled)
	assert.Equal(t, q, quote)
}

// A process that dies after handing the transfer to the bank leaves the
// payment pending, for the next process's reconciler — never forgotten,
// never open to a second transfer.
func testStartedSurvives(t *testing.T, s store.Store) {
	req := request("pay-1", 1000)
	tok := claimNew(t, s, req, "gw", t0)
	require.NoError(t, s.MarkStarted(ctx, "pay-1", tok, "bank-a"))

	n, err := s.Expire(ctx, "gw") // the process died; its successor frees its claims
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	got, err := s.Lookup(ctx, "pay-1")
	require.NoError(t, err)
	assert.Equal(t, store.Pending, got.Result.State)
	assert.True(t, got.Started)
	assert.Equal(t, "bank-a", got.Bank)
	res, err := s.Claim(ctx, req, lease("gw", t0))
	require.NoError(t, err)
	assert.Equal(t, store.Replayed, res.Status, "a client's retry is answered pending, not sent again")
	due, err := s.DuePending(ctx, lease("gw", t0), t0, 0)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, "pay-1", due[0].Key())
	assert.True(t, due[0].Claim.Held())
}

func testFinishQueues(t *testing.T, s store.Store) {
	req := request("pay-1", 1000)
	pay(t, s, req)

	got, err := s.Lookup(ctx, "pay-1")
	require.NoError(t, err)
	assert.Equal(t, succeeded("tr-pay-1"), got.Result)
	assert.Equal(t, store.Queued, got.Log)
	assert.False(t, got.Claim.Held())
	next, err := s.Next(ctx, lease("gw", t0), 10)
	require.NoError(t, err)
	require.Len(t, next, 1)
	assert.True(t, entryFor(req).Equal(next[0]))
	st := stats(t, s)
	assert.Equal(t, 1, st.Outbox)
	assert.Equal(t, 0, st.Reserved)
	assert.Equal(t, map[store.State]int{store.Succeeded: 1}, st.Payments)
}

func testFinishRefuses(t *testing.T, s store.Store) {
	req := request("pay-1", 1000)
	tok := claimNew(t, s, req, "gw", t0)
	before, err := s.Lookup(ctx, "pay-1")
	require.NoError(t, err)
	wrongID := entryFor(request("pay-2", 1000))
	bad := *entryFor(req)
	bad.Amount = payments.Money{}
	for name, f := range map[string]func() error{
		"entry for a decline": func() error {
			return s.Finish(ctx, "pay-1", tok, store.Result{State: store.Declined}, entryFor(req))
		},
		"entry of another payment": func() error { return s.Finish(ctx, "pay-1", tok, succeeded("t"), wrongID) },
		"invalid entry":            func() error { return s.Finish(ctx, "pay-1", tok, succeeded("t"), &bad) },
		"empty state":              func() error { return s.Finish(ctx, "pay-1", tok, store.Result{}, nil) },
		"unknown state":            func() error { return s.Finish(ctx, "pay-1", tok, store.Result{State: "lost"}, nil) },
	} {
		assert.ErrorIs(t, f(), store.ErrInvalid, name)
	}
	after, err := s.Lookup(ctx, "pay-1")
	require.NoError(t, err)
	assert.Equal(t, before, after, "neither the record")
	assert.Zero(t, stats(t, s).Outbox, "nor the outbox changed")
}

func testStaleTokens(t *testing.T, s store.Store) {
	tok := claimNew(t, s, request("pay-1", 1000), "gw", t0)
	for name, f := range map[string]func(token string) error{
		"settle":   func(k string) error { return s.SaveSettlement(ctx, "pay-1", k, payments.New(1, payments.USD), nil) },
		"start":    func(k string) error { return s.MarkStarted(ctx, "pay-1", k, "bank") },
		"finish":   func(k string) error { return s.Finish(ctx, "pay-1", k, succeeded("t"), nil) },
		"postpone": func(k string) error { return s.Postpone(ctx, "pay-1", k, t0, 0) },
		"refused":  func(k string) error { return s.MarkRefused(ctx, "pay-1", k, "bank") },
	} {
		assert.ErrorIs(t, f("not-"+tok), store.ErrClaimLost, name)
		assert.ErrorIs(t, f(""), store.ErrClaimLost, name)
	}
	assert.ErrorIs(t, s.MarkStarted(ctx, "pay-404", tok, "bank"), store.ErrNotFound)
	assert.ErrorIs(t, s.Finish(ctx, "pay-404", tok, succeeded("t"), nil), store.ErrNotFound)
	assert.ErrorIs(t, s.MarkRefused(ctx, "pay-404", tok, "bank"), store.ErrNotFound)
	assert.ErrorIs(t, s.Postpone(ctx, "pay-1", tok, t0, 0), store.ErrInvalid, "only a pending payment is postponed")
}

func testPostponeAndDue(t *testing.T, s store.Store) {
	for i := range 3 {
		tok := claimNew(t, s, request(key(i), 100), "gw", t0)
		require.NoError(t, s.MarkStarted(ctx, key(i), tok, "bank"))
		require.NoError(t, s.Finish(ctx, key(i), tok, store.Result{State: store.Pending, Reason: "timeout"}, nil))
	}
	due, err := s.DuePending(ctx, lease("rec", t0), t0, 2)
	require.NoError(t, err)
	require.Len(t, due, 2, "limit")
	for i, r := range due {
		next := t0.Add(time.Duration(10-i) * time.Second) // the first due, checked last
		require.NoError(t, s.Postpone(ctx, r.Key(), r.Claim.Token, next, time.Second))
	}
	due, err = s.DuePending(ctx, lease("rec", t0), t0, 0)
	require.NoError(t, err)
	require.Len(t, due, 1, "the postponed ones are not due yet")
	require.NoError(t, s.Postpone(ctx, due[0].Key(), due[0].Claim.Token, t0.Add(time.Minute), time.Minute))

	due, err = s.DuePending(ctx, lease("rec", t0.Add(time.Hour)), t0.Add(time.Hour), 0)
	require.NoError(t, err)
	require.Len(t, due, 3)
	assert.Equal(t, []string{key(1), key(0), key(2)}, []string{due[0].Key(), due[1].Key(), due[2].Key()}, "oldest check first")
	assert.Equal(t, 1, due[0].Checks)
	assert.Equal(t, time.Second, due[0].LastWait)
	assert.Equal(t, t0.Add(9*time.Second), due[0].NextCheck)
	again, err := s.DuePending(ctx, lease("other", t0.Add(time.Hour)), t0.Add(time.Hour), 0)
	require.NoError(t, err)
	assert.Empty(t, again, "claimed by the first reconciler")
}

func testDueOrphans(t *testing.T, s store.Store) {
	claimNew(t, s, request("pay-live", 100), "gw", t0)
	claimNew(t, s, request("pay-orphan", 100), "gw", t0.Add(-ttl))
	due, err := s.DuePending(ctx, lease("rec", t0), t0, 0)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, "pay-orphan", due[0].Key())
	assert.False(t, due[0].Started, "never sent: to be closed as rejected")
	require.NoError(t, s.Finish(ctx, "pay-orphan", due[0].Claim.Token,
		store.Result{State: store.Rejected, Reason: "not attempted: the gateway stopped"}, nil))
}

func testExpire(t *testing.T, s store.Store) {
	claimNew(t, s, request("pay-1", 100), "gw-a", t0)
	claimNew(t, s, request("pay-2", 100), "gw-a", t0)
	claimNew(t, s, request("pay-3", 100), "gw-b", t0)
	n, err := s.Expire(ctx, "gw-a")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, 1, stats(t, s).Claimed)
	res, err := s.Claim(ctx, request("pay-1", 100), lease("gw-a", t0))
	require.NoError(t, err)
	assert.Equal(t, store.Claimed, res.Status, "free at once, not after the TTL")
}

func testClosed(t *testing.T, s store.Store) {
	require.NoError(t, s.Close())
	_, err := s.Claim(ctx, request("pay-1", 1), lease("gw", t0))
	assert.ErrorIs(t, err, store.ErrClosed)
	_, err = s.Next(ctx, lease("gw", t0), 1)
	assert.ErrorIs(t, err, store.ErrClosed)
	_, err = s.Stats(ctx)
	assert.ErrorIs(t, err, store.ErrClosed)
	assert.NoError(t, s.Close(), "twice")
}
