package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
)

func runOutbox(t *testing.T, open Factory) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"NextIsOldestFirst", testNextOrder},
		{"NextLeasesEntries", testNextLeases},
		{"AckRemovesEntries", testAck},
		{"RefuseSetsEntriesAside", testRefuse},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t, store.Config{})) })
	}
}

func ids(es []payments.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.PaymentID
	}
	return out
}

func testNextOrder(t *testing.T, s store.Store) {
	for _, i := range []int{3, 1, 4, 0, 2} { // queued in this order, whatever the keys
		pay(t, s, request(key(i), 100))
	}
	next, err := s.Next(ctx, lease("gw", t0), 3)
	require.NoError(t, err)
	assert.Equal(t, []string{key(3), key(1), key(4)}, ids(next))
	all, err := s.Next(ctx, lease("gw", t0), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{key(3), key(1), key(4), key(0), key(2)}, ids(all), "an owner gets its own leased entries again")
}

func testNextLeases(t *testing.T, s store.Store) {
	pay(t, s, request(key(0), 100))
	pay(t, s, request(key(1), 100))
	a, err := s.Next(ctx, lease("gw-a", t0), 1)
	require.NoError(t, err)
	assert.Equal(t, []string{key(0)}, ids(a))
	b, err := s.Next(ctx, lease("gw-b", t0), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{key(1)}, ids(b), "gw-a's entry is skipped")
	c, err := s.Next(ctx, lease("gw-c", t0.Add(ttl)), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{key(0), key(1)}, ids(c), "leases expire")
	n, err := s.Expire(ctx, "gw-c")
	require.NoError(t, err)
	assert.Zero(t, n, "no payment claims")
	d, err := s.Next(ctx, lease("gw-d", t0.Add(ttl)), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{key(0), key(1)}, ids(d), "Expire ends leases too")
	_, err = s.Next(ctx, store.Lease{Now: t0, TTL: ttl}, 0)
	assert.ErrorIs(t, err, store.ErrInvalid)
}

func testAck(t *testing.T, s store.Store) {
	for i := range 3 {
		pay(t, s, request(key(i), 100))
	}
	require.NoError(t, s.Ack(ctx, key(0), key(2), "pay-unknown"))
	require.NoError(t, s.Ack(ctx, key(0)), "twice")
	require.NoError(t, s.Ack(ctx))
	next, err := s.Next(ctx, lease("gw", t0), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{key(1)}, ids(next))
	got, err := s.Lookup(ctx, key(0))
	require.NoError(t, err)
	assert.Equal(t, store.Delivered, got.Log)
	assert.Equal(t, 1, stats(t, s).Outbox)
}

func testRefuse(t *testing.T, s store.Store) {
	pay(t, s, request(key(0), 100))
	pay(t, s, request(key(1), 100))
	at := t0.Add(time.Second)
	require.NoError(t, s.Refuse(ctx, key(0), "log: a different entry stands under this ID", at))
	require.NoError(t, s.Refuse(ctx, "pay-unknown", "x", at))

	next, err := s.Next(ctx, lease("gw", t0), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{key(1)}, ids(next))
	refused, err := s.Refused(ctx, 0)
	require.NoError(t, err)
	require.Len(t, refused, 1)
	assert.Equal(t, key(0), refused[0].Entry.PaymentID)
	assert.True(t, entryFor(request(key(0), 100)).Equal(refused[0].Entry))
	assert.Equal(t, "log: a different entry stands under this ID", refused[0].Reason)
	assert.True(t, at.Equal(refused[0].At))
	got, err := s.Lookup(ctx, key(0))
	require.NoError(t, err)
	assert.Equal(t, store.SetAside, got.Log)
	st := stats(t, s)
	assert.Equal(t, 1, st.Refused)
	assert.Equal(t, 1, st.Outbox)
}

func runCapacity(t *testing.T, open Factory) {
	t.Run("FullRefusesNewClaimsOnly", func(t *testing.T) {
		s := open(t, store.Config{MaxOutbox: 3, FullRetryAfter: 7 * time.Second})
		pay(t, s, request(key(0), 100))                       // an entry queued
		tok := claimNew(t, s, request(key(1), 100), "gw", t0) // a slot reserved
		claimNew(t, s, request(key(2), 100), "gw", t0.Add(-ttl))

		_, err := s.Claim(ctx, request(key(3), 100), lease("gw", t0))
		require.ErrorIs(t, err, store.ErrFull)
		assert.True(t, resilience.IsRejected(err), "not attempted")
		after, ok := resilience.RetryAfter(err)
		assert.True(t, ok)
		assert.Equal(t, 7*time.Second, after)
		_, err = s.Lookup(ctx, key(3))
		assert.ErrorIs(t, err, store.ErrNotFound)

		res, err := s.Claim(ctx, request(key(0), 100), lease("gw", t0))
		require.NoError(t, err)
		assert.Equal(t, store.Replayed, res.Status, "answers are still given")
		res, err = s.Claim(ctx, request(key(2), 100), lease("gw", t0))
		require.NoError(t, err)
		assert.True(t, res.TakenOver, "a reserved payment is still taken over")

		require.NoError(t, s.Finish(ctx, key(1), tok, store.Result{State: store.Declined, Reason: "no funds"}, nil))
		claimNew(t, s, request(key(3), 100), "gw", t0) // the decline freed its slot
		st := stats(t, s)
		assert.Equal(t, 3, st.Outbox+st.Reserved)
		assert.Equal(t, 3, st.MaxOutbox)
	})
	t.Run("FinishNeverFailsForRoom", func(t *testing.T) {
		s := open(t, store.Config{MaxOutbox: 4})
		toks := map[string]string{}
		for i := range 4 {
			toks[key(i)] = claimNew(t, s, request(key(i), 100), "gw", t0)
		}
		for i := range 4 {
			req := request(key(i), 100)
			require.NoError(t, s.Finish(ctx, key(i), toks[key(i)], succeeded("t"), entryFor(req)))
		}
		assert.Equal(t, 4, stats(t, s).Outbox)
		_, err := s.Claim(ctx, request(key(9), 100), lease("gw", t0))
		assert.ErrorIs(t, err, store.ErrFull)
		require.NoError(t, s.Ack(ctx, key(0)))
		claimNew(t, s, request(key(9), 100), "gw", t0)
	})
}
